package messaging

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/pkg/httpapi"
)

// Message types.
const (
	TypeText     = "text"
	TypeImage    = "image"
	TypeVideo    = "video"
	TypeAudio    = "audio"
	TypeDocument = "document"
	TypeSticker  = "sticker"
	TypeLocation = "location"
	TypeContact  = "contact"
	TypeReaction = "reaction"
	TypeReply    = "reply"
	TypeEdit     = "edit"
	TypeDelete   = "delete"
	TypePoll     = "poll"
)

// Types lists every type a send accepts.
var Types = []string{TypeText, TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker, TypeLocation,
	TypeContact, TypeReaction, TypeReply, TypeEdit, TypeDelete, TypePoll}

// Limits of a send.
const (
	MaxText       = 65536
	MaxCaption    = 1024
	MaxURL        = 2048
	MaxTypingMS   = 30000
	MaxPollOption = 12
	// MaxBody bounds a send request: base64 media up to MaxMedia fits.
	MaxBody = 24 << 20
)

// MaxMedia is the largest decoded base64 media of each type, as WhatsApp
// accepts it. Media fetched from a URL is bounded by the driver.
var MaxMedia = map[string]int{
	TypeImage:    5 << 20,
	TypeSticker:  500 << 10,
	TypeVideo:    16 << 20,
	TypeAudio:    16 << 20,
	TypeDocument: 16 << 20,
}

// Request is the body of POST /v1/channels/{id}/messages and of a `send`
// command published to NATS. Field names match the drivers' send body
// (session/whatsmeow.SendBody); TypingMS is handled by the worker.
type Request struct {
	To       string    `json:"to"`
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Media    *Media    `json:"media,omitempty"`
	Location *Location `json:"location,omitempty"`
	Contact  *Contact  `json:"contact,omitempty"`
	Reaction *Reaction `json:"reaction,omitempty"`
	Edit     *Edit     `json:"edit,omitempty"`
	Delete   *Delete   `json:"delete,omitempty"`
	Poll     *Poll     `json:"poll,omitempty"`
	Voice    bool      `json:"voice,omitempty"`
	ReplyTo  string    `json:"reply_to,omitempty"`
	Mentions []string  `json:"mentions,omitempty"`
	// TypingMS shows "typing…" in the chat for this long before sending.
	TypingMS int `json:"typing_ms,omitempty"`
}

// Media is a file from URL or Base64 (exactly one).
type Media struct {
	URL      string `json:"url,omitempty"`
	Base64   string `json:"base64,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
	// What phones show before fetching the file, when the sender knows
	// better than what the driver computes from it (package preview):
	// Thumbnail, a base64 JPEG (images, videos: a video has one only when
	// given); Seconds (audio, videos: a video has them only when given);
	// Waveform, WaveformLen values from 0 to 100 (voice notes).
	Thumbnail string `json:"thumbnail,omitempty"`
	Seconds   int    `json:"seconds,omitempty"`
	Waveform  []int  `json:"waveform,omitempty"`
	// Stored replaces Base64 in the message log once the API stored the
	// file in the media store (media.go); requests never carry it.
	Stored *StoredFile `json:"stored,omitempty"`
}

// StoredFile is a file of a send the API keeps in the media store under
// the message's key (media.Key).
type StoredFile struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Location is a place.
type Location struct {
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	Name      string   `json:"name,omitempty"`
	Address   string   `json:"address,omitempty"`
	URL       string   `json:"url,omitempty"`
}

// Contact is a contact card.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	VCard string `json:"vcard,omitempty"`
}

// Reaction reacts to a message ("" emoji removes ours).
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
	Sender    string `json:"sender,omitempty"`
}

// Edit replaces the text of one of our messages.
type Edit struct {
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// Delete revokes a message for everyone.
type Delete struct {
	MessageID string `json:"message_id"`
	Sender    string `json:"sender,omitempty"`
}

// Poll asks a question.
type Poll struct {
	Name       string   `json:"name"`
	Options    []string `json:"options"`
	Selectable int      `json:"selectable,omitempty"`
}

// Parse decodes and validates a send body strictly, normalizing the
// recipient to a JID. Errors are *httpapi.Error with stable codes.
func Parse(body []byte) (*Request, *httpapi.Error) {
	var r Request
	if err := httpapi.Decode(body, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

var (
	digitsRE = regexp.MustCompile(`^[1-9][0-9]{6,14}$`)
	groupRE  = regexp.MustCompile(`^[0-9]{5,20}(-[0-9]{5,20})?@g\.us$`)
	userRE   = regexp.MustCompile(`^[1-9][0-9]{6,14}(:[0-9]{1,3})?@(s\.whatsapp\.net|c\.us)$`)
	lidRE    = regexp.MustCompile(`^[0-9]{5,20}@lid$`)
	strip    = strings.NewReplacer("+", "", " ", "", "-", "", "(", "", ")", "", ".", "")
)

// NormalizeRecipient turns a phone number ("+1 555-123-4567") or a JID
// into a JID: users on s.whatsapp.net, groups on g.us, or a @lid.
func NormalizeRecipient(to string) (string, bool) {
	to = strings.TrimSpace(to)
	switch {
	case strings.HasSuffix(to, "@g.us"):
		return to, groupRE.MatchString(to)
	case strings.HasSuffix(to, "@lid"):
		return to, lidRE.MatchString(to)
	case strings.Contains(to, "@"):
		if !userRE.MatchString(to) {
			return "", false
		}
		user, _, _ := strings.Cut(to, "@")
		user, _, _ = strings.Cut(user, ":")
		return user + "@s.whatsapp.net", true
	}
	d := strip.Replace(to)
	if !digitsRE.MatchString(d) {
		return "", false
	}
	return d + "@s.whatsapp.net", true
}

func invalid(field, format string, args ...any) *httpapi.Error {
	return httpapi.Validation(field, format, args...)
}

// Validate checks the request and normalizes To.
func (r *Request) Validate() *httpapi.Error {
	if r.Type == "" {
		return invalid("type", "is required; one of %s", strings.Join(Types, ", "))
	}
	known := false
	for _, t := range Types {
		known = known || t == r.Type
	}
	if !known {
		return httpapi.Errorf(http.StatusBadRequest, "unknown_type", "type %q is not one of %s", r.Type, strings.Join(Types, ", ")).
			WithDetails(map[string]string{"field": "type"})
	}
	if r.To == "" {
		return invalid("to", "is required: a phone number in international form or a JID")
	}
	jid, ok := NormalizeRecipient(r.To)
	if !ok {
		return httpapi.Errorf(http.StatusBadRequest, "invalid_recipient",
			"to %q is neither a phone number in international form (7–15 digits, no leading 0) nor a user, group or lid JID", r.To).
			WithDetails(map[string]string{"field": "to"})
	}
	r.To = jid
	if r.TypingMS < 0 || r.TypingMS > MaxTypingMS {
		return invalid("typing_ms", "must be from 0 to %d", MaxTypingMS)
	}
	if utf8.RuneCountInString(r.ReplyTo) > 128 {
		return invalid("reply_to", "is not a message id")
	}
	for i, m := range r.Mentions {
		j, ok := NormalizeRecipient(m)
		if !ok {
			return invalid("mentions", "entry %d (%q) is not a phone number or JID", i, m)
		}
		r.Mentions[i] = j
	}
	switch r.Type {
	case TypeText:
		return textField("text", r.Text, MaxText)
	case TypeReply:
		if r.ReplyTo == "" {
			return invalid("reply_to", "is required for a reply: the id of the message replied to")
		}
		return textField("text", r.Text, MaxText)
	case TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker:
		return r.validateMedia()
	case TypeLocation:
		l := r.Location
		switch {
		case l == nil:
			return invalid("location", "is required for a location")
		case l.Latitude == nil || *l.Latitude < -90 || *l.Latitude > 90:
			return invalid("location.latitude", "is required, from -90 to 90")
		case l.Longitude == nil || *l.Longitude < -180 || *l.Longitude > 180:
			return invalid("location.longitude", "is required, from -180 to 180")
		}
	case TypeContact:
		c := r.Contact
		switch {
		case c == nil:
			return invalid("contact", "is required for a contact")
		case strings.TrimSpace(c.Name) == "":
			return invalid("contact.name", "is required")
		case c.VCard == "" && c.Phone == "":
			return invalid("contact", "needs phone or vcard")
		case c.Phone != "" && !digitsRE.MatchString(strip.Replace(c.Phone)):
			return invalid("contact.phone", "is not a phone number in international form")
		case len(c.VCard) > 16<<10:
			return invalid("contact.vcard", "exceeds 16 KiB")
		}
	case TypeReaction:
		switch {
		case r.Reaction == nil || r.Reaction.MessageID == "":
			return invalid("reaction.message_id", "is required")
		case utf8.RuneCountInString(r.Reaction.Emoji) > 8:
			return invalid("reaction.emoji", "must be one emoji, or empty to remove a reaction")
		}
	case TypeEdit:
		if r.Edit == nil || r.Edit.MessageID == "" {
			return invalid("edit.message_id", "is required")
		}
		return textField("edit.text", r.Edit.Text, MaxText)
	case TypeDelete:
		if r.Delete == nil || r.Delete.MessageID == "" {
			return invalid("delete.message_id", "is required")
		}
	case TypePoll:
		p := r.Poll
		if p == nil || strings.TrimSpace(p.Name) == "" {
			return invalid("poll.name", "is required")
		}
		if utf8.RuneCountInString(p.Name) > 255 {
			return invalid("poll.name", "exceeds 255 characters")
		}
		if len(p.Options) < 2 || len(p.Options) > MaxPollOption {
			return invalid("poll.options", "needs 2 to %d options", MaxPollOption)
		}
		seen := map[string]bool{}
		for _, o := range p.Options {
			if strings.TrimSpace(o) == "" || utf8.RuneCountInString(o) > 100 || seen[o] {
				return invalid("poll.options", "options must be unique, non-empty and at most 100 characters")
			}
			seen[o] = true
		}
		if p.Selectable < 0 || p.Selectable > len(p.Options) {
			return invalid("poll.selectable", "must be from 0 to the number of options")
		}
	}
	return nil
}

func textField(field, s string, max int) *httpapi.Error {
	if strings.TrimSpace(s) == "" {
		return invalid(field, "is required and cannot be blank")
	}
	if utf8.RuneCountInString(s) > max {
		return invalid(field, "exceeds %d characters", max)
	}
	return nil
}

func (r *Request) validateMedia() *httpapi.Error {
	m := r.Media
	if m == nil {
		return invalid("media", "is required for %s: {url} or {base64}", r.Type)
	}
	if m.Stored != nil {
		return invalid("media.stored", "is set by wagate when it stores a base64 file; send url or base64")
	}
	if (m.URL == "") == (m.Base64 == "") {
		return invalid("media", "needs exactly one of url and base64")
	}
	if m.URL != "" {
		u, err := url.Parse(m.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.URL) > MaxURL {
			return invalid("media.url", "must be an http or https URL of at most %d characters", MaxURL)
		}
		if u.User != nil {
			return invalid("media.url", "must not carry credentials")
		}
	}
	if m.Base64 != "" {
		data := m.Base64
		if i := strings.Index(data, ";base64,"); strings.HasPrefix(data, "data:") && i > 0 {
			if m.MIME == "" {
				m.MIME = data[len("data:"):i]
			}
			data = data[i+len(";base64,"):]
		}
		n := base64.StdEncoding.DecodedLen(len(data))
		if n > MaxMedia[r.Type] {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "media_too_large",
				"%s media of about %d bytes exceeds WhatsApp's %d bytes; send a URL or a smaller file", r.Type, n, MaxMedia[r.Type]).
				WithDetails(map[string]any{"field": "media.base64", "limit": MaxMedia[r.Type]})
		}
		if _, err := base64.StdEncoding.DecodeString(data); err != nil {
			return invalid("media.base64", "is not valid standard base64")
		}
	}
	if utf8.RuneCountInString(m.Caption) > MaxCaption {
		return invalid("media.caption", "exceeds %d characters", MaxCaption)
	}
	if r.Type == TypeSticker || r.Type == TypeAudio {
		if m.Caption != "" {
			return invalid("media.caption", "%s messages have no caption", r.Type)
		}
	}
	if r.Voice && r.Type != TypeAudio {
		return invalid("voice", "applies to audio only")
	}
	if len(m.Filename) > 255 {
		return invalid("media.filename", "exceeds 255 characters")
	}
	return r.validatePreview()
}

// Limits of the preview a send gives.
const (
	// MaxThumbnail bounds a given thumbnail (decoded): WhatsApp's are a
	// few kilobytes.
	MaxThumbnail = 64 << 10
	// MaxSeconds bounds the given length of audio and video.
	MaxSeconds = 86400
	// WaveformLen is the number of values of a voice note's waveform.
	WaveformLen = 64
)

// validatePreview checks media.thumbnail, media.seconds and
// media.waveform.
func (r *Request) validatePreview() *httpapi.Error {
	m := r.Media
	if m.Thumbnail != "" {
		if r.Type != TypeImage && r.Type != TypeVideo {
			return invalid("media.thumbnail", "applies to image and video only")
		}
		t, err := base64.StdEncoding.DecodeString(m.Thumbnail)
		if err != nil || len(t) < 4 || t[0] != 0xff || t[1] != 0xd8 {
			return invalid("media.thumbnail", "must be a JPEG in standard base64")
		}
		if len(t) > MaxThumbnail {
			return invalid("media.thumbnail", "exceeds %d bytes", MaxThumbnail)
		}
	}
	if m.Seconds != 0 {
		if r.Type != TypeAudio && r.Type != TypeVideo {
			return invalid("media.seconds", "applies to audio and video only")
		}
		if m.Seconds < 0 || m.Seconds > MaxSeconds {
			return invalid("media.seconds", "must be from 1 to %d", MaxSeconds)
		}
	}
	if m.Waveform != nil {
		if r.Type != TypeAudio || !r.Voice {
			return invalid("media.waveform", "applies to voice notes only (type audio with voice: true)")
		}
		if len(m.Waveform) != WaveformLen {
			return invalid("media.waveform", "needs exactly %d values", WaveformLen)
		}
		for _, v := range m.Waveform {
			if v < 0 || v > 100 {
				return invalid("media.waveform", "values must be from 0 to 100")
			}
		}
	}
	return nil
}

// DriverBody is the request as the session drivers receive it (without
// the worker's own fields).
func (r *Request) DriverBody() json.RawMessage {
	c := *r
	c.TypingMS = 0
	b, _ := json.Marshal(c)
	return b
}
