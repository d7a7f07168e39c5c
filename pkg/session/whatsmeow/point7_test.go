package whatsmeow

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
)

// timeoutForTests bounds waits that end at once when the code is right.
const timeoutForTests = 5 * time.Second

// webWhatsApp answers web.whatsapp.com's page with body, or fails.
type webWhatsApp struct {
	body string
	err  error
}

func (w webWhatsApp) RoundTrip(r *http.Request) (*http.Response, error) {
	if w.err != nil {
		return nil, w.err
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(w.body)), Request: r, Header: http.Header{}}, nil
}

// Point 7: the web client version is asked for at start; a failure keeps
// the compiled one. Not parallel: whatsmeow's version is a global.
func TestClientVersionFromWhatsAppAtStart(t *testing.T) {
	compiled := store.GetWAVersion()
	t.Cleanup(func() { store.SetWAVersion(compiled) })
	log := slog.New(slog.DiscardHandler)

	refreshVersion(t.Context(), &http.Client{Transport: webWhatsApp{err: errors.New("no route to host")}}, timeoutForTests, log)
	require.Equal(t, compiled, store.GetWAVersion(), "a failed check keeps the compiled version")

	refreshVersion(t.Context(), &http.Client{Transport: webWhatsApp{body: `<script>{"client_revision":1031234567,"x":1}</script>`}}, timeoutForTests, log)
	require.Equal(t, store.WAVersionContainer{2, 3000, 1031234567}, store.GetWAVersion())
}

// Point 7: an undecryptable message is message.undecryptable, not a
// message.received the log would keep in place of the real one.
func TestUndecryptableIsNotReceived(t *testing.T) {
	t.Parallel()
	in, d := inboundOf(t, &events.UndecryptableMessage{Info: info(alice, "3A0009"), IsUnavailable: true}, event.MessageUndecryptable)
	require.Nil(t, in.Ack, "nothing to acknowledge: whatsmeow acked and asked for a resend")
	require.Equal(t, "3A0009", d["id"])
	// The resent message arrives under the same id as message.received.
	_, d = inboundOf(t, &events.Message{Info: info(alice, "3A0009"), Message: text("now readable")}, event.MessageReceived)
	require.Equal(t, "3A0009", d["id"])
}

// Point 7: a caption edit is translated with the new caption.
func TestCaptionEditsAreTranslated(t *testing.T) {
	t.Parallel()
	key := &waCommon.MessageKey{ID: proto.String("3EB0IMG"), FromMe: proto.Bool(false), RemoteJID: proto.String(alice.String())}
	_, d := inboundOf(t, msgEvent(alice, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(), Key: key,
		EditedMessage: &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: proto.String("new caption")}},
	}}), event.MessageEdited)
	require.Equal(t, "new caption", d["text"])
	require.Equal(t, "3EB0IMG", d["message_id"])
}

// Point 7: CATRefreshError and any other permanent disconnect end the
// connection with a reason; no channel stays active without one.
func TestPermanentDisconnectsEndWithAReason(t *testing.T) {
	t.Parallel()
	require.Equal(t, []session.Event{session.ConnectFailure{Reason: ReasonCATRefreshFailed, Message: "CAT refresh failed: 401", Retryable: true}},
		translate(&events.CATRefreshError{Error: errors.New("401")}, now))
	c, rec := testConn(t)
	c.handle(&events.CATRefreshError{Error: errors.New("401")})
	sessiontest.Expect[session.ConnectFailure](t, rec, timeoutForTests)
	require.Error(t, c.ctx.Err(), "the connection is over")
	for _, pd := range []events.PermanentDisconnect{&events.LoggedOut{}, &events.StreamReplaced{}, &events.ClientOutdated{},
		&events.CATRefreshError{}, &events.TemporaryBan{}, &events.ConnectFailure{}} {
		evs := translate(pd, now)
		require.Len(t, evs, 1, "%T", pd)
		require.True(t, ends(evs[0]), "%T ends the connection", pd)
	}
}

// Point 7: events that produce nothing are counted by type.
func TestUntranslatedEventsAreCounted(t *testing.T) {
	t.Parallel()
	c, _ := testConn(t)
	count := func() float64 {
		var m dto.Metric
		require.NoError(t, metricUntranslated.WithLabelValues("*events.OfflineSyncPreview").Write(&m))
		return m.GetCounter().GetValue()
	}
	before := count()
	c.handle(&events.OfflineSyncPreview{Total: 3})
	require.Equal(t, before+1, count())
}
