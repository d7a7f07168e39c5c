package whatsmeow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
)

// SendBody is the JSON of a send command (session.Outbound.Body): the body
// of POST /v1/channels/{id}/messages and of wa.cmd.<channel>.send. To and
// Type may be omitted when the Outbound carries them. Which fields a type
// needs:
//
//	text       text
//	reply      text and reply_to (any other type may carry reply_to too)
//	image      media, optional media.caption
//	video      media, optional media.caption
//	audio      media; voice: true sends a voice note (OGG/Opus)
//	document   media, optional media.filename and media.caption
//	sticker    media (WebP)
//	location   location
//	contact    contact (vcard, or name and phone to build one)
//	reaction   reaction (an empty emoji removes ours)
//	edit       edit (our own message, within WhatsApp's 20 minutes)
//	delete     delete (revoke for everyone)
//	poll       poll
//
// Messages are referred to by their WhatsApp id. sender is the author of
// the message referred to: omit it for a message this channel sent; set it
// for an incoming one (in a group, the member who wrote it; in a chat, the
// contact).
type SendBody struct {
	To       string    `json:"to,omitempty"`
	Type     string    `json:"type,omitempty"`
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
	Quoted   *Quoted   `json:"quoted,omitempty"`
	Mentions []string  `json:"mentions,omitempty"`
}

// Media is the file of an image, video, audio, document or sticker: from
// URL (http or https, fetched with the driver's size limit and timeout) or
// Base64 (standard encoding, a data: URI prefix allowed). MIME defaults to
// the URL's Content-Type, else to what the bytes look like.
//
// What phones show before fetching the file is computed from it (package
// preview) unless given: Thumbnail (base64 JPEG; an image's is made from
// the image, a video's only given), Seconds (a video's only given; an
// Ogg/Opus audio's read from its container) and Waveform (a voice note's:
// 64 values from 0 to 100, else estimated from the Opus packets).
type Media struct {
	URL       string `json:"url,omitempty"`
	Base64    string `json:"base64,omitempty"`
	MIME      string `json:"mime,omitempty"`
	Filename  string `json:"filename,omitempty"`
	Caption   string `json:"caption,omitempty"`
	Thumbnail string `json:"thumbnail,omitempty"`
	Seconds   uint32 `json:"seconds,omitempty"`
	Waveform  []int  `json:"waveform,omitempty"`
}

// Location is a place to share.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// Contact is a contact card: VCard as is, or one built from Name and Phone.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	VCard string `json:"vcard,omitempty"`
}

// Reaction reacts to MessageID with Emoji ("" removes the reaction).
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
	Sender    string `json:"sender,omitempty"`
}

// Edit replaces the text of our message MessageID.
type Edit struct {
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// Delete revokes MessageID for everyone: ours, or, as a group admin, a
// member's (Sender).
type Delete struct {
	MessageID string `json:"message_id"`
	Sender    string `json:"sender,omitempty"`
}

// Poll asks Name with Options; Selectable is how many options one may
// pick: omitted or 1 for a single choice, len(Options) for any number.
type Poll struct {
	Name       string   `json:"name"`
	Options    []string `json:"options"`
	Selectable int      `json:"selectable,omitempty"`
}

// Quoted completes reply_to: the author (Sender, as for reactions) and the
// text of the quoted message, which WhatsApp shows in the reply's bubble.
type Quoted struct {
	Sender string `json:"sender,omitempty"`
	Text   string `json:"text,omitempty"`
}

// Limits WhatsApp applies to what we send.
const (
	maxPollOptions = 12
	maxTextLen     = 65536
)

// MessageID is the WhatsApp id under which the message with wagate id id
// is sent: WhatsApp Web's format ("3EB0" and 18 hex digits), derived
// deterministically so that a retried send reuses it and the recipient's
// devices drop the duplicate.
func MessageID(id string) types.MessageID {
	sum := sha256.Sum256([]byte(id))
	return wa.WebMessageIDPrefix + strings.ToUpper(hex.EncodeToString(sum[:9]))
}

// ParseJID accepts a JID ("15551234567@s.whatsapp.net", "…@g.us",
// "…@lid") or a phone number in international form ("+1 555 123 4567")
// and returns the JID to send to, without a device part.
func ParseJID(s string) (types.JID, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return types.EmptyJID, fmt.Errorf("%w: recipient is required", session.ErrInvalid)
	}
	if !strings.Contains(s, "@") {
		digits := strings.Map(func(r rune) rune {
			switch {
			case r >= '0' && r <= '9':
				return r
			case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
				return -1
			}
			return 'x'
		}, s)
		if strings.Contains(digits, "x") || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
			return types.EmptyJID, fmt.Errorf("%w: %q is neither a JID nor a phone number in international form", session.ErrInvalid, s)
		}
		return types.NewJID(digits, types.DefaultUserServer), nil
	}
	j, err := types.ParseJID(s)
	if err != nil || j.User == "" {
		return types.EmptyJID, fmt.Errorf("%w: bad JID %q", session.ErrInvalid, s)
	}
	switch j.Server {
	case types.DefaultUserServer, types.GroupServer, types.HiddenUserServer, types.BroadcastServer, types.NewsletterServer:
	default:
		return types.EmptyJID, fmt.Errorf("%w: cannot send to server %q", session.ErrInvalid, j.Server)
	}
	return j.ToNonAD(), nil
}

// uploader stores media at WhatsApp; *whatsmeow.Client is one.
type uploader interface {
	Upload(ctx context.Context, data []byte, mediaType wa.MediaType) (wa.UploadResponse, error)
}

// builder turns send bodies into WhatsApp messages. It uses the client only
// for what needs the account (its own JID, in message keys) and uploads
// through up, so every type is built and tested without a network.
type builder struct {
	self types.JID // this account, empty before pairing
	// selfLID is this account's LID: WhatsApp names our messages by it in
	// LID-addressed chats, and they are ours all the same.
	selfLID types.JID
	up      uploader
	fetch   *fetcher
}

// decodeBody parses an Outbound's body; the Outbound's To and Type win
// over the body's.
func decodeBody(m session.Outbound) (SendBody, error) {
	var b SendBody
	if len(m.Body) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(m.Body)))
		if err := dec.Decode(&b); err != nil {
			return b, fmt.Errorf("%w: send body: %v", session.ErrInvalid, err)
		}
	}
	if m.To != "" {
		b.To = m.To
	}
	if m.Type != "" {
		b.Type = m.Type
	}
	return b, nil
}

// build makes the message for b, uploading its media.
func (bd *builder) build(ctx context.Context, to types.JID, b SendBody) (*waE2E.Message, error) {
	var (
		msg *waE2E.Message
		err error
	)
	switch b.Type {
	case "text", "reply":
		if b.Type == "reply" && b.ReplyTo == "" {
			return nil, invalid("reply needs reply_to")
		}
		if strings.TrimSpace(b.Text) == "" {
			return nil, invalid("text is required")
		}
		if len(b.Text) > maxTextLen {
			return nil, invalid("text longer than %d bytes", maxTextLen)
		}
		msg = &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(b.Text)}}
	case "image", "video", "audio", "document", "sticker":
		if msg, err = bd.media(ctx, b); errors.Is(err, session.ErrInvalid) {
			err = fmt.Errorf("%w: %w", session.ErrInvalidMedia, err)
		}
	case "location":
		msg, err = location(b.Location)
	case "contact":
		msg, err = contact(b.Contact)
	case "reaction":
		return bd.reaction(to, b.Reaction)
	case "edit":
		return bd.edit(to, b.Edit)
	case "delete":
		return bd.revoke(to, b.Delete)
	case "poll":
		msg, err = poll(b.Poll)
	case "":
		return nil, invalid("type is required")
	default:
		return nil, invalid("unknown message type %q", b.Type)
	}
	if err != nil {
		return nil, err
	}
	if err := bd.addContext(msg, to, b); err != nil {
		return nil, err
	}
	return msg, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", session.ErrInvalid, fmt.Sprintf(format, args...))
}

// key refers to message id in chat, written by sender ("" or our own
// JID: by us), as WhatsApp expects in reactions, revokes and quotes.
func (bd *builder) key(chat types.JID, sender, id string) (*waCommon.MessageKey, error) {
	if id == "" {
		return nil, invalid("message_id is required")
	}
	k := &waCommon.MessageKey{FromMe: proto.Bool(true), ID: proto.String(id), RemoteJID: proto.String(chat.String())}
	if sender == "" {
		return k, nil
	}
	sj, err := ParseJID(sender)
	if err != nil {
		return nil, err
	}
	if (sj.User == bd.self.User && sj.Server == bd.self.Server) || (!bd.selfLID.IsEmpty() && sj.User == bd.selfLID.User && sj.Server == bd.selfLID.Server) {
		return k, nil
	}
	k.FromMe = proto.Bool(false)
	if chat.Server != types.DefaultUserServer && chat.Server != types.HiddenUserServer {
		k.Participant = proto.String(sj.String())
	}
	return k, nil
}

func (bd *builder) reaction(to types.JID, r *Reaction) (*waE2E.Message, error) {
	if r == nil {
		return nil, invalid("reaction is required")
	}
	k, err := bd.key(to, r.Sender, r.MessageID)
	if err != nil {
		return nil, err
	}
	return &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
		Key:               k,
		Text:              proto.String(r.Emoji),
		SenderTimestampMS: proto.Int64(time.Now().UnixMilli()),
	}}, nil
}

func (bd *builder) edit(to types.JID, e *Edit) (*waE2E.Message, error) {
	if e == nil || e.MessageID == "" || strings.TrimSpace(e.Text) == "" {
		return nil, invalid("edit needs message_id and text")
	}
	// As whatsmeow's BuildEdit: only our own messages can be edited.
	return &waE2E.Message{EditedMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
		ProtocolMessage: &waE2E.ProtocolMessage{
			Key:           &waCommon.MessageKey{FromMe: proto.Bool(true), ID: proto.String(e.MessageID), RemoteJID: proto.String(to.String())},
			Type:          waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(),
			EditedMessage: &waE2E.Message{Conversation: proto.String(e.Text)},
			TimestampMS:   proto.Int64(time.Now().UnixMilli()),
		},
	}}}, nil
}

func (bd *builder) revoke(to types.JID, d *Delete) (*waE2E.Message, error) {
	if d == nil {
		return nil, invalid("delete is required")
	}
	k, err := bd.key(to, d.Sender, d.MessageID)
	if err != nil {
		return nil, err
	}
	return &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: k}}, nil
}

func location(l *Location) (*waE2E.Message, error) {
	if l == nil {
		return nil, invalid("location is required")
	}
	if math.IsNaN(l.Latitude) || math.IsNaN(l.Longitude) || l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
		return nil, invalid("location out of range")
	}
	m := &waE2E.LocationMessage{DegreesLatitude: proto.Float64(l.Latitude), DegreesLongitude: proto.Float64(l.Longitude)}
	if l.Name != "" {
		m.Name = proto.String(l.Name)
	}
	if l.Address != "" {
		m.Address = proto.String(l.Address)
	}
	if l.URL != "" {
		m.URL = proto.String(l.URL)
	}
	return &waE2E.Message{LocationMessage: m}, nil
}

func contact(c *Contact) (*waE2E.Message, error) {
	if c == nil {
		return nil, invalid("contact is required")
	}
	vcard := c.VCard
	if vcard == "" {
		if c.Name == "" || c.Phone == "" {
			return nil, invalid("contact needs vcard, or name and phone")
		}
		pj, err := ParseJID(c.Phone)
		if err != nil || pj.Server != types.DefaultUserServer {
			return nil, invalid("contact phone %q is not a phone number in international form", c.Phone)
		}
		vcard = buildVCard(c.Name, pj.User)
	} else if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(vcard)), "BEGIN:VCARD") {
		return nil, invalid("vcard must start with BEGIN:VCARD")
	}
	name := c.Name
	if name == "" {
		name = vcardName(vcard)
	}
	return &waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String(name), Vcard: proto.String(vcard)}}, nil
}

// buildVCard writes the vCard WhatsApp's apps produce: waid lets the
// recipient message the contact straight away.
func buildVCard(name, digits string) string {
	esc := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(name)
	return "BEGIN:VCARD\nVERSION:3.0\nFN:" + esc + "\nTEL;type=CELL;type=VOICE;waid=" + digits + ":+" + digits + "\nEND:VCARD"
}

// vcardName is the FN of a vCard, "" when absent.
func vcardName(vcard string) string {
	for _, line := range strings.Split(vcard, "\n") {
		line = strings.TrimRight(line, "\r")
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.SplitN(k, ";", 2)[0], "FN") {
			return v
		}
	}
	return ""
}

func poll(p *Poll) (*waE2E.Message, error) {
	if p == nil || strings.TrimSpace(p.Name) == "" {
		return nil, invalid("poll needs a name")
	}
	if len(p.Options) < 2 || len(p.Options) > maxPollOptions {
		return nil, invalid("poll needs 2 to %d options", maxPollOptions)
	}
	seen := make(map[string]bool, len(p.Options))
	for _, o := range p.Options {
		if strings.TrimSpace(o) == "" || seen[o] {
			return nil, invalid("poll options must be distinct and not empty")
		}
		seen[o] = true
	}
	if p.Selectable < 0 || p.Selectable > len(p.Options) {
		return nil, invalid("poll selectable must be between 0 and the number of options")
	}
	selectable := uint32(p.Selectable)
	switch {
	case p.Selectable == 0:
		selectable = 1
	case p.Selectable == len(p.Options):
		selectable = 0 // WhatsApp's "allow multiple answers"
	}
	// As whatsmeow's BuildPollCreation: the message secret is the key
	// the recipients encrypt their votes with.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("whatsmeow: poll secret: %w", err)
	}
	opts := make([]*waE2E.PollCreationMessage_Option, len(p.Options))
	for i, o := range p.Options {
		opts[i] = &waE2E.PollCreationMessage_Option{OptionName: proto.String(o)}
	}
	return &waE2E.Message{
		PollCreationMessage: &waE2E.PollCreationMessage{
			Name:                   proto.String(p.Name),
			Options:                opts,
			SelectableOptionsCount: proto.Uint32(selectable),
		},
		MessageContextInfo: &waE2E.MessageContextInfo{MessageSecret: secret},
	}, nil
}

// addContext adds the quote and mentions of b to msg's content.
func (bd *builder) addContext(msg *waE2E.Message, to types.JID, b SendBody) error {
	if b.ReplyTo == "" && len(b.Mentions) == 0 {
		if b.Quoted != nil {
			return invalid("quoted needs reply_to")
		}
		return nil
	}
	ci := &waE2E.ContextInfo{}
	if b.ReplyTo != "" {
		var q Quoted
		if b.Quoted != nil {
			q = *b.Quoted
		}
		k, err := bd.key(to, q.Sender, b.ReplyTo)
		if err != nil {
			return err
		}
		ci.StanzaID = k.ID
		participant := bd.self
		if !k.GetFromMe() {
			participant, _ = ParseJID(q.Sender) // parsed by key already
		}
		if !participant.IsEmpty() {
			ci.Participant = proto.String(participant.ToNonAD().String())
		}
		if to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer {
			ci.RemoteJID = proto.String(to.String())
		}
		ci.QuotedMessage = &waE2E.Message{Conversation: proto.String(q.Text)}
	}
	for _, m := range b.Mentions {
		mj, err := ParseJID(m)
		if err != nil {
			return err
		}
		ci.MentionedJID = append(ci.MentionedJID, mj.String())
	}
	switch {
	case msg.ExtendedTextMessage != nil:
		msg.ExtendedTextMessage.ContextInfo = ci
	case msg.ImageMessage != nil:
		msg.ImageMessage.ContextInfo = ci
	case msg.VideoMessage != nil:
		msg.VideoMessage.ContextInfo = ci
	case msg.AudioMessage != nil:
		msg.AudioMessage.ContextInfo = ci
	case msg.DocumentMessage != nil:
		msg.DocumentMessage.ContextInfo = ci
	case msg.StickerMessage != nil:
		msg.StickerMessage.ContextInfo = ci
	case msg.LocationMessage != nil:
		msg.LocationMessage.ContextInfo = ci
	case msg.ContactMessage != nil:
		msg.ContactMessage.ContextInfo = ci
	case msg.PollCreationMessage != nil:
		msg.PollCreationMessage.ContextInfo = ci
	}
	return nil
}
