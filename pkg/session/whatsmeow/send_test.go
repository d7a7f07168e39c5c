package whatsmeow

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/media/preview/previewtest"
	"github.com/wagate/wagate/pkg/session"
)

// fakeUpload stands in for WhatsApp's media servers.
type fakeUpload struct {
	mu    sync.Mutex
	kinds []wa.MediaType
	sizes []int
	err   error
}

func (f *fakeUpload) Upload(_ context.Context, data []byte, kind wa.MediaType) (wa.UploadResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return wa.UploadResponse{}, f.err
	}
	f.kinds = append(f.kinds, kind)
	f.sizes = append(f.sizes, len(data))
	return wa.UploadResponse{
		URL: "https://mmg.whatsapp.net/d/f/x.enc", DirectPath: "/v/t62/x.enc",
		MediaKey: []byte("key"), FileEncSHA256: []byte("enc"), FileSHA256: []byte("sha"), FileLength: uint64(len(data)),
	}, nil
}

// Small files of each kind, recognisable by their first bytes.
var (
	mp4  = append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), make([]byte, 32)...)
	ogg  = append([]byte("OggS\x00\x02"), make([]byte, 40)...)
	mp3  = append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 40)...)
	webp = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 40)...)
	pdf  = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
	// voiceNote is a valid Ogg/Opus stream of 2 s (100 frames of 20 ms).
	voiceNote = previewtest.VoiceNote(slices.Repeat([]int{3, 40}, 50))
)

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))))
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// testBuilder builds as account me, uploading to a fake and fetching URLs
// from test servers on loopback.
func testBuilder(t *testing.T) (*builder, *fakeUpload) {
	t.Helper()
	up := &fakeUpload{}
	return &builder{self: me, up: up, fetch: &fetcher{client: newFetchClient(time.Second, true), max: 1 << 20, timeout: 2 * time.Second}}, up
}

func build(t *testing.T, bd *builder, to types.JID, b SendBody) *waE2E.Message {
	t.Helper()
	msg, err := bd.build(context.Background(), to, b)
	require.NoError(t, err)
	return msg
}

func TestMessageIDIsDeterministicAndLooksLikeWhatsAppWeb(t *testing.T) {
	t.Parallel()
	id := MessageID("msg_01HZX")
	require.Equal(t, id, MessageID("msg_01HZX"), "a retried command reuses the id")
	require.NotEqual(t, id, MessageID("msg_01HZY"))
	require.Regexp(t, regexp.MustCompile(`^3EB0[0-9A-F]{18}$`), id)
}

func TestParseJID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"15551230001@s.whatsapp.net":   "15551230001@s.whatsapp.net",
		"15551230001:7@s.whatsapp.net": "15551230001@s.whatsapp.net",
		"+1 (555) 123-0001":            "15551230001@s.whatsapp.net",
		"120363000000000001@g.us":      "120363000000000001@g.us",
		"123456789@lid":                "123456789@lid",
	} {
		j, err := ParseJID(in)
		require.NoError(t, err, in)
		require.Equal(t, want, j.String(), in)
	}
	for _, in := range []string{"", "hello", "0555123456", "12345", "x@example.com", "@s.whatsapp.net"} {
		_, err := ParseJID(in)
		require.ErrorIs(t, err, session.ErrInvalid, in)
	}
}

func TestDecodeBodyOutboundWins(t *testing.T) {
	t.Parallel()
	b, err := decodeBody(session.Outbound{ID: "m", To: "15551230001", Type: "text", Body: []byte(`{"to":"15550000000","type":"image","text":"hi"}`)})
	require.NoError(t, err)
	require.Equal(t, "15551230001", b.To)
	require.Equal(t, "text", b.Type)
	require.Equal(t, "hi", b.Text)

	_, err = decodeBody(session.Outbound{Body: []byte(`{"text":`)})
	require.ErrorIs(t, err, session.ErrInvalid)
}

func TestBuildText(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	msg := build(t, bd, alice, SendBody{Type: "text", Text: "hello"})
	require.Equal(t, "hello", msg.GetExtendedTextMessage().GetText())
	require.Nil(t, msg.GetExtendedTextMessage().GetContextInfo())
}

func TestBuildReplyQuotesTheMessage(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)

	// A reply to the contact's message in a chat.
	msg := build(t, bd, alice, SendBody{Type: "reply", Text: "yes", ReplyTo: "3A0001", Quoted: &Quoted{Sender: alice.String(), Text: "coming?"}})
	ci := msg.GetExtendedTextMessage().GetContextInfo()
	require.Equal(t, "3A0001", ci.GetStanzaID())
	require.Equal(t, alice.String(), ci.GetParticipant())
	require.Equal(t, "coming?", ci.GetQuotedMessage().GetConversation())
	require.Empty(t, ci.GetRemoteJID(), "only groups name the chat")

	// A reply to our own message in a group, with a mention.
	msg = build(t, bd, group, SendBody{Type: "text", Text: "see above @15551230002", ReplyTo: "3EB0OWN", Mentions: []string{"15551230002"}})
	ci = msg.GetExtendedTextMessage().GetContextInfo()
	require.Equal(t, "3EB0OWN", ci.GetStanzaID())
	require.Equal(t, me.String(), ci.GetParticipant())
	require.Equal(t, group.String(), ci.GetRemoteJID())
	require.Equal(t, []string{bob.String()}, ci.GetMentionedJID())

	// Any type can reply: an image here.
	msg = build(t, bd, alice, SendBody{Type: "image", Media: &Media{Base64: b64(pngImage(t, 2, 2))}, ReplyTo: "3A0001", Quoted: &Quoted{Sender: alice.String()}})
	require.Equal(t, "3A0001", msg.GetImageMessage().GetContextInfo().GetStanzaID())
}

func TestBuildMedia(t *testing.T) {
	t.Parallel()
	img := pngImage(t, 3, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/files/report.pdf":
			w.Header().Set("Content-Type", "application/octet-stream") // generic: sniffed instead
			_, _ = w.Write(pdf)
		case "/clip":
			_, _ = w.Write(mp4)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name  string
		body  SendBody
		kind  wa.MediaType
		check func(t *testing.T, m *waE2E.Message)
	}{
		{"image from base64 with its size", SendBody{Type: "image", Media: &Media{Base64: b64(img), Caption: "chart"}}, wa.MediaImage, func(t *testing.T, m *waE2E.Message) {
			im := m.GetImageMessage()
			require.Equal(t, "image/png", im.GetMimetype())
			require.Equal(t, "chart", im.GetCaption())
			require.Equal(t, uint32(3), im.GetWidth())
			require.Equal(t, uint32(2), im.GetHeight())
			require.Equal(t, uint64(len(img)), im.GetFileLength())
			require.Equal(t, "/v/t62/x.enc", im.GetDirectPath())
			require.Equal(t, []byte("key"), im.GetMediaKey())
		}},
		{"image from a data URI", SendBody{Type: "image", Media: &Media{Base64: "data:image/png;base64," + b64(img)}}, wa.MediaImage, func(t *testing.T, m *waE2E.Message) {
			require.Equal(t, "image/png", m.GetImageMessage().GetMimetype())
		}},
		{"video from a URL, type sniffed", SendBody{Type: "video", Media: &Media{URL: srv.URL + "/clip", Caption: "watch"}}, wa.MediaVideo, func(t *testing.T, m *waE2E.Message) {
			require.Equal(t, "video/mp4", m.GetVideoMessage().GetMimetype())
			require.Equal(t, "watch", m.GetVideoMessage().GetCaption())
		}},
		{"audio", SendBody{Type: "audio", Media: &Media{Base64: b64(mp3)}}, wa.MediaAudio, func(t *testing.T, m *waE2E.Message) {
			require.Equal(t, "audio/mpeg", m.GetAudioMessage().GetMimetype())
			require.False(t, m.GetAudioMessage().GetPTT())
		}},
		{"voice note", SendBody{Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote)}}, wa.MediaAudio, func(t *testing.T, m *waE2E.Message) {
			require.Equal(t, voiceMIME, m.GetAudioMessage().GetMimetype())
			require.True(t, m.GetAudioMessage().GetPTT())
		}},
		{"document named after its URL", SendBody{Type: "document", Media: &Media{URL: srv.URL + "/files/report.pdf", Caption: "Q1"}}, wa.MediaDocument, func(t *testing.T, m *waE2E.Message) {
			d := m.GetDocumentMessage()
			require.Equal(t, "application/pdf", d.GetMimetype())
			require.Equal(t, "report.pdf", d.GetFileName())
			require.Equal(t, "Q1", d.GetCaption())
		}},
		{"document with a declared type and name", SendBody{Type: "document", Media: &Media{Base64: b64([]byte("a,b\n1,2\n")), MIME: "text/csv", Filename: "data.csv"}}, wa.MediaDocument,
			func(t *testing.T, m *waE2E.Message) {
				require.Equal(t, "text/csv", m.GetDocumentMessage().GetMimetype())
				require.Equal(t, "data.csv", m.GetDocumentMessage().GetFileName())
			}},
		{"sticker", SendBody{Type: "sticker", Media: &Media{Base64: b64(webp)}}, wa.MediaImage, func(t *testing.T, m *waE2E.Message) {
			require.Equal(t, "image/webp", m.GetStickerMessage().GetMimetype())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bd, up := testBuilder(t)
			tc.check(t, build(t, bd, alice, tc.body))
			require.Equal(t, []wa.MediaType{tc.kind}, up.kinds, "uploaded once, as the right kind")
		})
	}
}

func TestBuildLocationContactPoll(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)

	loc := build(t, bd, alice, SendBody{Type: "location", Location: &Location{Latitude: 48.85, Longitude: 2.35, Name: "Paris", Address: "France"}}).GetLocationMessage()
	require.Equal(t, 48.85, loc.GetDegreesLatitude())
	require.Equal(t, 2.35, loc.GetDegreesLongitude())
	require.Equal(t, "Paris", loc.GetName())
	require.Equal(t, "France", loc.GetAddress())

	c := build(t, bd, alice, SendBody{Type: "contact", Contact: &Contact{Name: "Bob; Jr", Phone: "+1 555 123 0002"}}).GetContactMessage()
	require.Equal(t, "Bob; Jr", c.GetDisplayName())
	require.Equal(t, "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\\; Jr\nTEL;type=CELL;type=VOICE;waid=15551230002:+15551230002\nEND:VCARD", c.GetVcard())

	vcard := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol\r\nTEL:+15551230003\r\nEND:VCARD"
	c = build(t, bd, alice, SendBody{Type: "contact", Contact: &Contact{VCard: vcard}}).GetContactMessage()
	require.Equal(t, "Carol", c.GetDisplayName(), "named after the card")
	require.Equal(t, vcard, c.GetVcard())

	p := build(t, bd, group, SendBody{Type: "poll", Poll: &Poll{Name: "Lunch?", Options: []string{"Pizza", "Sushi", "Salad"}}})
	require.Equal(t, "Lunch?", p.GetPollCreationMessage().GetName())
	require.Len(t, p.GetPollCreationMessage().GetOptions(), 3)
	require.Equal(t, "Sushi", p.GetPollCreationMessage().GetOptions()[1].GetOptionName())
	require.Equal(t, uint32(1), p.GetPollCreationMessage().GetSelectableOptionsCount(), "single choice by default")
	require.Len(t, p.GetMessageContextInfo().GetMessageSecret(), 32, "votes are encrypted with the secret")

	p = build(t, bd, group, SendBody{Type: "poll", Poll: &Poll{Name: "Days", Options: []string{"Mon", "Tue"}, Selectable: 2}})
	require.Equal(t, uint32(0), p.GetPollCreationMessage().GetSelectableOptionsCount(), "any number of answers")
}

func TestBuildReactionEditRevoke(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)

	// Our own message in a chat.
	r := build(t, bd, alice, SendBody{Type: "reaction", Reaction: &Reaction{MessageID: "3EB0OWN", Emoji: "🎉"}}).GetReactionMessage()
	require.Equal(t, "🎉", r.GetText())
	require.Equal(t, "3EB0OWN", r.GetKey().GetID())
	require.True(t, r.GetKey().GetFromMe())
	require.Equal(t, alice.String(), r.GetKey().GetRemoteJID())
	require.Empty(t, r.GetKey().GetParticipant())
	require.NotZero(t, r.GetSenderTimestampMS())

	// A member's message in a group: not ours, and the member is named.
	r = build(t, bd, group, SendBody{Type: "reaction", Reaction: &Reaction{MessageID: "3A0001", Emoji: "", Sender: aliceAD.String()}}).GetReactionMessage()
	require.Equal(t, "", r.GetText(), "an empty emoji removes our reaction")
	require.False(t, r.GetKey().GetFromMe())
	require.Equal(t, alice.String(), r.GetKey().GetParticipant())

	// Our own JID as sender is the same as no sender.
	r = build(t, bd, alice, SendBody{Type: "reaction", Reaction: &Reaction{MessageID: "3EB0OWN", Emoji: "x", Sender: me.String()}}).GetReactionMessage()
	require.True(t, r.GetKey().GetFromMe())

	e := build(t, bd, alice, SendBody{Type: "edit", Edit: &Edit{MessageID: "3EB0OWN", Text: "fixed"}})
	pm := e.GetEditedMessage().GetMessage().GetProtocolMessage()
	require.Equal(t, waE2E.ProtocolMessage_MESSAGE_EDIT, pm.GetType())
	require.Equal(t, "3EB0OWN", pm.GetKey().GetID())
	require.True(t, pm.GetKey().GetFromMe())
	require.Equal(t, "fixed", pm.GetEditedMessage().GetConversation())

	d := build(t, bd, alice, SendBody{Type: "delete", Delete: &Delete{MessageID: "3EB0OWN"}}).GetProtocolMessage()
	require.Equal(t, waE2E.ProtocolMessage_REVOKE, d.GetType())
	require.Equal(t, "3EB0OWN", d.GetKey().GetID())
	require.True(t, d.GetKey().GetFromMe())

	d = build(t, bd, group, SendBody{Type: "delete", Delete: &Delete{MessageID: "3A0001", Sender: alice.String()}}).GetProtocolMessage()
	require.False(t, d.GetKey().GetFromMe(), "an admin revokes a member's message")
	require.Equal(t, alice.String(), d.GetKey().GetParticipant())
}

func TestBuildRejectsWhatCannotBeSent(t *testing.T) {
	t.Parallel()
	bd, up := testBuilder(t)
	img := b64(pngImage(t, 1, 1))
	for name, b := range map[string]SendBody{
		"no type":                       {Text: "hi"},
		"unknown type":                  {Type: "carrier_pigeon"},
		"empty text":                    {Type: "text", Text: "  "},
		"reply without reply_to":        {Type: "reply", Text: "hi"},
		"quoted without reply_to":       {Type: "text", Text: "hi", Quoted: &Quoted{Text: "x"}},
		"bad mention":                   {Type: "text", Text: "hi", Mentions: []string{"nobody"}},
		"image without media":           {Type: "image"},
		"media with both sources":       {Type: "image", Media: &Media{Base64: img, URL: "https://example.com/a.png"}},
		"media with no source":          {Type: "image", Media: &Media{Caption: "x"}},
		"bad base64":                    {Type: "image", Media: &Media{Base64: "@@@"}},
		"image that is not an image":    {Type: "image", Media: &Media{Base64: b64(pdf)}},
		"video that is not a video":     {Type: "video", Media: &Media{Base64: img}},
		"audio that is not audio":       {Type: "audio", Media: &Media{Base64: img}},
		"voice note that is not OGG":    {Type: "audio", Voice: true, Media: &Media{Base64: b64(mp3)}},
		"voice on a non-audio":          {Type: "image", Voice: true, Media: &Media{Base64: img}},
		"sticker that is not WebP":      {Type: "sticker", Media: &Media{Base64: img}},
		"media URL with another scheme": {Type: "image", Media: &Media{URL: "file:///etc/passwd"}},
		"location out of range":         {Type: "location", Location: &Location{Latitude: 91}},
		"location missing":              {Type: "location"},
		"contact missing":               {Type: "contact"},
		"contact without phone":         {Type: "contact", Contact: &Contact{Name: "Bob"}},
		"contact with a bad vcard":      {Type: "contact", Contact: &Contact{VCard: "hello"}},
		"reaction missing":              {Type: "reaction"},
		"reaction without message id":   {Type: "reaction", Reaction: &Reaction{Emoji: "x"}},
		"reaction with bad sender":      {Type: "reaction", Reaction: &Reaction{MessageID: "X", Sender: "nobody"}},
		"edit without text":             {Type: "edit", Edit: &Edit{MessageID: "X"}},
		"delete without message id":     {Type: "delete", Delete: &Delete{}},
		"poll with one option":          {Type: "poll", Poll: &Poll{Name: "Q", Options: []string{"A"}}},
		"poll with duplicate options":   {Type: "poll", Poll: &Poll{Name: "Q", Options: []string{"A", "A"}}},
		"poll without name":             {Type: "poll", Poll: &Poll{Options: []string{"A", "B"}}},
		"poll selecting too many":       {Type: "poll", Poll: &Poll{Name: "Q", Options: []string{"A", "B"}, Selectable: 3}},
	} {
		_, err := bd.build(context.Background(), alice, b)
		require.ErrorIs(t, err, session.ErrInvalid, name)
	}
	require.Empty(t, up.kinds, "nothing invalid was uploaded")
}

func TestBuildUploadFailureIsRetryable(t *testing.T) {
	t.Parallel()
	bd, up := testBuilder(t)
	up.err = errors.New("media conn: timed out")
	_, err := bd.build(context.Background(), alice, SendBody{Type: "image", Media: &Media{Base64: b64(pngImage(t, 1, 1))}})
	require.Error(t, err)
	require.NotErrorIs(t, err, session.ErrInvalid)
}
