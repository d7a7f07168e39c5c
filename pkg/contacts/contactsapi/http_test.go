package contactsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/blocklist/blocklistapi"
	"github.com/wagate/wagate/pkg/calls/callsapi"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/contacts/contactsapi"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/ownerclient/ownertest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

type options struct {
	timeout  time.Duration
	sendRate config.Rate
}

// setup serves the contact, profile, call and blocklist routes.
func setup(t *testing.T, o options) *ownertest.Bundle {
	return ownertest.Setup(t, ownertest.Options{Timeout: o.timeout}, func(e *gin.Engine, auth gin.HandlerFunc, owner ownerclient.Config, b *ownertest.Bundle) {
		contactsapi.NewHandlers(contactsapi.Config{Config: owner, Redis: b.Redis, Keys: b.Keys, SendRate: o.sendRate}).Mount(e, auth)
		callsapi.NewHandlers(callsapi.Config{Config: owner, Redis: b.Redis, Keys: b.Keys}).Mount(e, auth)
		blocklistapi.NewHandlers(owner).Mount(e, auth)
	})
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	ownertest.RoutesMatchOpenAPI(t, "contacts", func(e *gin.Engine, auth gin.HandlerFunc) {
		contactsapi.NewHandlers(contactsapi.Config{}).Mount(e, auth)
	}, "contact")
	ownertest.RoutesMatchOpenAPI(t, "calls", func(e *gin.Engine, auth gin.HandlerFunc) {
		callsapi.NewHandlers(callsapi.Config{}).Mount(e, auth)
	}, "call_id")
	ownertest.RoutesMatchOpenAPI(t, "blocklist", func(e *gin.Engine, auth gin.HandlerFunc) {
		blocklistapi.NewHandlers(blocklistapi.Config{}).Mount(e, auth)
	}, "contact")
}

func checks(t *testing.T, r ownertest.Response) map[string]contacts.Check {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l contactsapi.CheckList
	require.NoError(t, json.Unmarshal(r.Body, &l))
	out := map[string]contacts.Check{}
	for _, c := range l.Data {
		out[c.Phone] = c
	}
	require.Len(t, out, len(l.Data), "one answer per distinct number")
	return out
}

// Numbers are checked once a day: a second check of the same numbers is
// answered from the cache, even with no worker running the channel.
func TestNumberCheck(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.ActiveChannel("")
	path := "/v1/channels/" + ch + "/contacts/check"

	r := b.Do("POST", path, ch, map[string]any{"phones": []string{"+1 (555) 123-4567", "15551230000", "15551234567"}})
	got := checks(t, r)
	require.Equal(t, contacts.Check{Phone: "15551234567", Exists: true, JID: "15551234567@s.whatsapp.net", LID: "276543215551@lid"}, got["15551234567"])
	require.Equal(t, contacts.Check{Phone: "15551230000"}, got["15551230000"], "a number ending in 0000 is not on WhatsApp")
	var order contactsapi.CheckList
	require.NoError(t, json.Unmarshal(r.Body, &order))
	require.Equal(t, "15551234567", order.Data[0].Phone, "answers in the order asked")

	for _, bad := range []any{
		map[string]any{"phones": []string{}},
		map[string]any{"phones": []string{"12ab"}},
		map[string]any{"phones": []string{"0044123456789"}},
		map[string]any{"phones": make([]string, contacts.MaxCheck+1)},
		map[string]any{"numbers": []string{"15551234567"}},
	} {
		r := b.Do("POST", path, ch, bad)
		require.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", bad, r.Body)
	}

	b.StopWorker()
	again := checks(t, b.Do("POST", path, ch, map[string]any{"phones": []string{"15551234567", "15551230000"}}))
	require.Equal(t, got["15551234567"], again["15551234567"], "answered from the cache")
	require.Equal(t, got["15551230000"], again["15551230000"], "a number not on WhatsApp is cached too")
	r = b.Do("POST", path, ch, map[string]any{"phones": []string{"15557654321"}})
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "a number not cached needs the worker: %s", r.Body)
	require.Equal(t, "channel_unavailable", r.Code(t))
}

// Checks that reach WhatsApp take slots of the channel's send rate;
// cached numbers do not.
func TestNumberCheckIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sendRate: config.Rate{N: 1, Per: time.Hour}})
	ch := b.ActiveChannel(`{"warmup_days": 0}`)
	path := "/v1/channels/" + ch + "/contacts/check"

	checks(t, b.Do("POST", path, ch, map[string]any{"phones": []string{"15551234567"}}))
	r := b.Do("POST", path, ch, map[string]any{"phones": []string{"15551234568"}})
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, contacts.CodeRateLimited, r.Code(t))
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	checks(t, b.Do("POST", path, ch, map[string]any{"phones": []string{"15551234567"}})) // cached: no slot needed
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 64)), nil))
	return buf.Bytes()
}

func TestContactsAndProfile(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch

	r := b.Do("GET", base+"/contacts", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []any{}, r.JSON(t)["data"])

	b.Sim(ch, sim.ActionContact, map[string]any{"phone": "15552220001", "name": "Bob Builder", "first_name": "Bob",
		"push_name": "bob", "about": "Can we fix it?", "verified_name": "Bob's Builds", "business_name": "Bob's Builds"})
	b.Sim(ch, sim.ActionContact, map[string]any{"phone": "15552220002", "push_name": "carol", "picture": true})
	var list contactsapi.ContactList
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.Do("GET", base+"/contacts", ch, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.NoError(t, json.Unmarshal(r.Body, &list))
		return len(list.Data) == 2
	}, "two contacts")
	require.Equal(t, contacts.Contact{JID: "15552220001@s.whatsapp.net", Phone: "15552220001", LID: "210002225551@lid",
		Name: "Bob Builder", FirstName: "Bob", PushName: "bob", BusinessName: "Bob's Builds"}, list.Data[0])

	// By number, JID or LID: the same contact, with both addresses.
	for _, id := range []string{"15552220001", "15552220001@s.whatsapp.net", "210002225551@lid"} {
		r = b.Do("GET", base+"/contacts/"+id, ch, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		c := r.JSON(t)
		require.Equal(t, "15552220001@s.whatsapp.net", c["jid"])
		require.Equal(t, "210002225551@lid", c["lid"])
		require.Equal(t, "Can we fix it?", c["about"])
		require.Equal(t, "Bob's Builds", c["verified_name"])
	}
	r = b.Do("GET", base+"/contacts/15552220000", ch, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, contacts.CodeContactNotFound, r.Code(t))
	r = b.Do("GET", base+"/contacts/120363000000000001@g.us", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)

	// Pictures.
	r = b.Do("GET", base+"/contacts/15552220001/picture", ch, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, contacts.CodePictureNotFound, r.Code(t))
	r = b.Do("GET", base+"/contacts/15552220002/picture?preview=true", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "preview", r.JSON(t)["type"])
	require.NotEmpty(t, r.JSON(t)["id"])
	r = b.Do("GET", base+"/contacts/15552220002/picture?preview=maybe", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	b.Sim(ch, sim.ActionContact, map[string]any{"phone": "15552220002", "picture_hidden": true})
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.Do("GET", base+"/contacts/15552220002/picture", ch, nil)
		return r.Status == http.StatusForbidden
	}, "the picture hidden")
	require.Equal(t, contacts.CodePictureHidden, r.Code(t))

	// Own profile.
	r = b.Do("GET", base+"/profile", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p := r.JSON(t)
	require.Equal(t, "Acme", p["push_name"], "the push name the phone had when it linked")
	require.Equal(t, "", p["about"])
	require.True(t, strings.HasSuffix(p["lid"].(string), "@lid"))
	r = b.Do("PATCH", base+"/profile", ch, map[string]any{"push_name": "Acme Support", "about": "9-17 CET"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "Acme Support", r.JSON(t)["push_name"])
	require.Equal(t, "9-17 CET", r.JSON(t)["about"])
	for _, bad := range []any{
		map[string]any{},
		map[string]any{"push_name": ""},
		map[string]any{"push_name": strings.Repeat("x", contacts.MaxPushName+1)},
		map[string]any{"about": strings.Repeat("x", contacts.MaxAbout+1)},
		map[string]any{"status": "x"},
	} {
		r = b.Do("PATCH", base+"/profile", ch, bad)
		require.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", bad, r.Body)
	}
	r = b.Do("GET", base+"/profile", ch, nil)
	require.Equal(t, "Acme Support", r.JSON(t)["push_name"], "refused changes changed nothing")

	r = b.Do("PUT", base+"/profile/picture", ch, jpegBytes(t))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	id := r.JSON(t)["picture_id"]
	require.NotEmpty(t, id)
	r = b.Do("GET", base+"/profile", ch, nil)
	require.Equal(t, id, r.JSON(t)["picture_id"])
	r = b.Do("PUT", base+"/profile/picture", ch, []byte("GIF89a not a jpeg"))
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	require.Equal(t, contacts.CodeInvalidImage, r.Code(t))
	r = b.Do("PUT", base+"/profile/picture", ch, `{"url":"x"}`)
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status, "%s", r.Body)
	r = b.Do("PUT", base+"/profile/picture", ch, make([]byte, contacts.MaxPicture+1))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s", r.Body)
}

func TestBlocklist(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/blocklist"

	r := b.Do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []any{}, r.JSON(t)["data"])

	r = b.Do("PUT", base+"/+15553330001", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, true, r.JSON(t)["blocked"])
	again := b.Do("PUT", base+"/210003335551@lid", ch, nil) // the same user by LID: idempotent
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	r = b.Do("GET", base, ch, nil)
	require.Equal(t, []any{map[string]any{"jid": "15553330001@s.whatsapp.net", "phone": "15553330001", "lid": "210003335551@lid"}}, r.JSON(t)["data"])

	r = b.Do("PUT", base+"/15553330000", ch, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, contacts.CodeContactNotFound, r.Code(t))
	r = b.Do("PUT", base+"/not-a-number", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)

	r = b.Do("DELETE", base+"/15553330001@s.whatsapp.net", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, false, r.JSON(t)["blocked"])
	require.Equal(t, []any{}, r.JSON(t)["data"])
	r = b.Do("DELETE", base+"/15553330001", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "unblocking twice is fine: %s", r.Body)
}

func TestRejectCallOnRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/calls/"

	r := b.Do("POST", base+"CALLUNKNOWN/reject", ch, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, "call_not_found", r.Code(t))

	b.Sim(ch, sim.ActionCall, map[string]any{"id": "CALL1", "from": "15554440001"})
	b.AwaitEvents(ch, event.CallReceived, 1)
	var rej map[string]any
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.Do("POST", base+"CALL1/reject", ch, nil)
		rej = r.JSON(t)
		return r.Status == http.StatusOK
	}, "the call rejected")
	require.Equal(t, "CALL1", rej["id"])
	require.Equal(t, "15554440001@s.whatsapp.net", rej["from"])
	require.Equal(t, "api", rej["by"])
	evs := b.AwaitEvents(ch, event.CallRejected, 1)
	require.Equal(t, "api", ownertest.DataOf(t, evs[0])["by"])
	require.Equal(t, "CALL1", ownertest.DataOf(t, evs[0])["id"])
	require.Equal(t, "CALL1", b.Redis.HGet(context.Background(), b.Keys.SimPhone(ch), "last_call_rejected").Val(), "the phone saw the rejection")

	// A call the gateway did not see, with its caller given.
	r = b.Do("POST", base+"CALL2/reject", ch, map[string]any{"from": "+1 555 444 0002"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "15554440002@s.whatsapp.net", r.JSON(t)["from"])
	r = b.Do("POST", base+"CALL3/reject", ch, map[string]any{"from": "someone"})
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
}

// With settings.reject_calls every call is rejected at once, and the
// reply text is queued to the caller once per call.
func TestCallsRejectedAutomatically(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.ActiveChannel(`{"reject_calls": true, "reject_calls_reply": "Please write instead."}`)

	b.Sim(ch, sim.ActionCall, map[string]any{"id": "CALLAUTO", "from": "15554440003", "video": true})
	evs := b.AwaitEvents(ch, "call.", 2)
	require.Equal(t, event.CallReceived, evs[0].Type, "call.received comes first")
	require.Equal(t, event.CallRejected, evs[1].Type)
	d := ownertest.DataOf(t, evs[1])
	require.Equal(t, "auto", d["by"])
	require.Equal(t, "CALLAUTO", d["id"])
	msgID, _ := d["reply_message_id"].(string)
	require.NotEmpty(t, msgID)
	testenv.Eventually(t, 5*time.Second, func() bool {
		m, err := b.Store.Message(context.Background(), ch, msgID)
		require.NoError(t, err)
		return m.Status == store.StatusSent || m.Status == store.StatusDelivered || m.Status == store.StatusRead
	}, "the reply sent")
	m, err := b.Store.Message(context.Background(), ch, msgID)
	require.NoError(t, err)
	require.Equal(t, "15554440003@s.whatsapp.net", m.Chat)
	require.Contains(t, string(m.Body), "Please write instead.")

	// The caller's side ends the call: reported, not rejected again. The
	// next call, behind it in the channel's mailbox, shows the worker has
	// passed it.
	b.Sim(ch, sim.ActionCall, map[string]any{"id": "CALLAUTO", "from": "15554440003", "status": "terminate", "reason": "timeout"})
	b.Sim(ch, sim.ActionCall, map[string]any{"id": "CALLAUTO2", "from": "15554440003", "group": "120363025246125486@g.us"})
	evs = b.AwaitEvents(ch, "call.", 5)
	var seen []string
	for _, ev := range evs {
		d := ownertest.DataOf(t, ev)
		status, _ := d["status"].(string)
		seen = append(seen, ev.Type+" "+d["id"].(string)+" "+status)
	}
	require.Equal(t, []string{
		"call.received CALLAUTO offer", "call.rejected CALLAUTO ",
		"call.received CALLAUTO terminate",
		"call.received CALLAUTO2 offer_notice", "call.rejected CALLAUTO2 ",
	}, seen)
}

// Every route needs an active channel: a stopped one answers 409 at once.
func TestInactiveChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.Channel("")
	base := "/v1/channels/" + ch
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"POST", base + "/contacts/check", map[string]any{"phones": []string{"15551234567"}}},
		{"GET", base + "/contacts", nil},
		{"GET", base + "/contacts/15551234567", nil},
		{"GET", base + "/contacts/15551234567/picture", nil},
		{"GET", base + "/profile", nil},
		{"PATCH", base + "/profile", map[string]any{"about": "x"}},
		{"PUT", base + "/profile/picture", jpegBytes(t)},
		{"POST", base + "/calls/CALL1/reject", nil},
		{"GET", base + "/blocklist", nil},
		{"PUT", base + "/blocklist/15551234567", nil},
		{"DELETE", base + "/blocklist/15551234567", nil},
	} {
		r := b.Do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusConflict, r.Status, "%s %s: %s", rq.method, rq.path, r.Body)
		require.Equal(t, "channel_not_active", r.Code(t))
		require.Equal(t, map[string]any{"state": "inactive"}, r.JSON(t)["error"].(map[string]any)["details"])
	}
}

// A worker that does not answer in time: 504 owner_timeout; and a request
// it reaches only after its caller's deadline is not run.
func TestOwnerTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, options{timeout: 2 * time.Second})
	// (2 s: the profile read below must be answered in time on a loaded
	// machine; each request to the stand-in owner waits that long.)
	ch := b.ActiveChannel("")

	// A request whose caller gave up before the worker reached it.
	body, err := json.Marshal(contacts.Params{Update: &contacts.ProfileUpdate{About: ptr("too late")}})
	require.NoError(t, err)
	msg := nats.NewMsg(b.Bus.Names.RPC(shard.Of(ch, ownertest.Shards), ch, contacts.MethodSetProfile))
	msg.Data = body
	msg.Header.Set(names.HeaderDeadline, time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano))
	_, err = b.Bus.Conn.RequestMsg(msg, 300*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "no answer to a caller who left")
	r := b.Do("GET", "/v1/channels/"+ch+"/profile", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "", r.JSON(t)["about"], "the late change did not run")

	b.StopWorker() // the worker hands its ownertest.Shards off; the channel stays active
	// A stand-in owner that takes the shard's requests and never answers.
	held := make(chan *nats.Msg, 16)
	sub, err := b.Bus.Conn.ChanSubscribe(b.Bus.Names.RPCShardFilter(shard.Of(ch, ownertest.Shards)), held)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/channels/" + ch + "/profile", nil},
		{"PATCH", "/v1/channels/" + ch + "/profile", map[string]any{"about": "x"}},
		{"PUT", "/v1/channels/" + ch + "/blocklist/15551234567", nil},
		{"POST", "/v1/channels/" + ch + "/contacts/check", map[string]any{"phones": []string{"15551234567"}}},
	} {
		r := b.Do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusGatewayTimeout, r.Status, "%s", r.Body)
		require.Equal(t, "owner_timeout", r.Code(t))
	}
	require.Len(t, held, 4, "each request reached the stand-in once")
}

func ptr[T any](v T) *T { return &v }
