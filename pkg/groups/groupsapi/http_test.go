package groupsapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups/groupsapi"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/ownerclient/ownertest"
)

func setup(t *testing.T) *ownertest.Bundle {
	return ownertest.Setup(t, ownertest.Options{Timeout: 3 * time.Second}, func(e *gin.Engine, auth gin.HandlerFunc, owner ownerclient.Config, _ *ownertest.Bundle) {
		groupsapi.NewHandlers(owner).Mount(e, auth)
	})
}

// awaitEvent waits for the n-th group event of the channel and returns its type and data.
func awaitEvent(b *ownertest.Bundle, ch string, n int) (string, map[string]any) {
	b.T.Helper()
	evs := b.AwaitEvents(ch, "group.", n)
	return evs[n-1].Type, ownertest.DataOf(b.T, evs[n-1])
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	ownertest.RoutesMatchOpenAPI(t, "groups", func(e *gin.Engine, auth gin.HandlerFunc) {
		groupsapi.NewHandlers(groupsapi.Config{}).Mount(e, auth)
	}, "gid")
}

func TestGroupsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/groups"
	bob, carol := "15550005001@s.whatsapp.net", "15550005002@s.whatsapp.net"

	r := b.Do("POST", base, ch, map[string]any{"name": "Support", "participants": []string{"+1 555 000 5001", carol, bob}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	g := r.JSON(t)
	gid := g["id"].(string)
	require.Equal(t, "Support", g["name"])
	require.Len(t, g["participants"], 3, "the account and two participants; duplicates dropped")
	typ, d := awaitEvent(b, ch, 1)
	require.Equal(t, event.GroupCreated, typ)
	require.Equal(t, gid, d["group"])
	require.Equal(t, "created", d["reason"])

	r = b.Do("GET", base, ownertest.Admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	list := r.JSON(t)["data"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, gid, list[0].(map[string]any)["id"])

	dave := "15550005003@s.whatsapp.net"
	r = b.Do("POST", base+"/"+gid+"/participants", ch, map[string]any{"action": "add", "participants": []string{"15550005003", bob}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, fmt.Sprintf(`{"group":%q,"action":"add","participants":[
		{"jid":%q,"status":"ok"},
		{"jid":%q,"status":"failed","code":409,"reason":"already_participant"}]}`, gid, dave, bob), string(r.Body))
	typ, d = awaitEvent(b, ch, 2)
	require.Equal(t, event.GroupMemberAdded, typ)
	require.Equal(t, []any{dave}, d["participants"])

	number := strings.TrimSuffix(gid, "@g.us") // the number alone names the group too
	r = b.Do("POST", base+"/"+number+"/participants", ch, map[string]any{"action": "remove", "participants": []string{bob}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	typ, d = awaitEvent(b, ch, 3)
	require.Equal(t, event.GroupMemberRemoved, typ)
	require.Equal(t, []any{bob}, d["participants"])

	r = b.Do("POST", base+"/"+gid+"/participants", ch, map[string]any{"action": "promote", "participants": []string{carol}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	typ, d = awaitEvent(b, ch, 4)
	require.Equal(t, event.GroupUpdated, typ)
	require.Equal(t, []any{carol}, d["promoted"])

	r = b.Do("GET", base+"/"+gid, ch, nil)
	require.Equal(t, http.StatusOK, r.Status)
	roles := map[string]string{}
	for _, p := range r.JSON(t)["participants"].([]any) {
		p := p.(map[string]any)
		roles[p["jid"].(string)] = p["role"].(string)
	}
	require.Equal(t, "admin", roles[carol])
	require.Equal(t, "member", roles[dave])
	require.NotContains(t, roles, bob)

	r = b.Do("POST", base+"/"+gid+"/leave", ch, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, fmt.Sprintf(`{"group":%q,"left":true}`, gid), string(r.Body))
	typ, d = awaitEvent(b, ch, 5)
	require.Equal(t, event.GroupMemberRemoved, typ)
	require.Equal(t, d["by"], d["participants"].([]any)[0], "the account itself left")

	r = b.Do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"data":[]}`, string(r.Body))
	r = b.Do("GET", base+"/"+gid, ch, nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, "not_participant", r.Code(t))
	r = b.Do("GET", base+"/120363999999999999@g.us", ch, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, "group_not_found", r.Code(t))
	r = b.Do("POST", base+"/"+gid+"/leave", ch, map[string]any{})
	require.Equal(t, http.StatusForbidden, r.Status)

	// Another channel's token does not reach this channel.
	other := b.Channel("")
	r = b.Do("GET", base, other, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/groups"
	gid := "120363000000000001@g.us"
	many := make([]string, 257)
	for i := range many {
		many[i] = fmt.Sprintf("1555%07d", i)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		code               string
	}{
		{"an empty body", "POST", base, "", "invalid_json"},
		{"malformed JSON", "POST", base, `{"name":`, "invalid_json"},
		{"an unknown field", "POST", base, map[string]any{"name": "x", "participants": []string{"15550006001"}, "topic": "t"}, "unknown_field"},
		{"participants not a list", "POST", base, map[string]any{"name": "x", "participants": "15550006001"}, "invalid_field_type"},
		{"no name", "POST", base, map[string]any{"participants": []string{"15550006001"}}, "validation_failed"},
		{"a blank name", "POST", base, map[string]any{"name": "   ", "participants": []string{"15550006001"}}, "validation_failed"},
		{"a name of 101 characters", "POST", base, map[string]any{"name": strings.Repeat("ü", 101), "participants": []string{"15550006001"}}, "validation_failed"},
		{"no participants", "POST", base, map[string]any{"name": "x", "participants": []string{}}, "validation_failed"},
		{"257 participants", "POST", base, map[string]any{"name": "x", "participants": many}, "validation_failed"},
		{"a local number", "POST", base, map[string]any{"name": "x", "participants": []string{"030 1234567"}}, "validation_failed"},
		{"a group as participant", "POST", base, map[string]any{"name": "x", "participants": []string{gid}}, "validation_failed"},
		{"a group id that is not one", "GET", base + "/not-a-group", nil, "validation_failed"},
		{"a user as group", "GET", base + "/15550006001@s.whatsapp.net", nil, "validation_failed"},
		{"an unknown action", "POST", base + "/" + gid + "/participants", map[string]any{"action": "kick", "participants": []string{"15550006001"}}, "validation_failed"},
		{"no action", "POST", base + "/" + gid + "/participants", map[string]any{"participants": []string{"15550006001"}}, "validation_failed"},
		{"no participants to change", "POST", base + "/" + gid + "/participants", map[string]any{"action": "add"}, "validation_failed"},
		{"a body to leave", "POST", base + "/" + gid + "/leave", map[string]any{"really": true}, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.Do(tc.method, tc.path, ownertest.Admin, tc.body)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			require.Equal(t, tc.code, r.Code(t), "%s", r.Body)
		})
	}
	r := b.Do("POST", base, ownertest.Admin, map[string]any{"name": "x", "participants": []string{"15550006001"}})
	require.Equal(t, http.StatusCreated, r.Status, "the channel still works")
	r = b.Do("GET", base, ownertest.Admin, nil)
	require.Len(t, r.JSON(t)["data"], 1, "no bad request created a group")

	r = b.Do("GET", "/v1/channels/ch_00000000000000000000000000/groups", ownertest.Admin, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Equal(t, "channel_not_found", r.Code(t))
}

// Every route needs an active channel: a stopped one answers 409 at once.
func TestInactiveChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.Channel("")
	base := "/v1/channels/" + ch + "/groups"
	gid := "120363000000000001@g.us"
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", base, nil},
		{"POST", base, map[string]any{"name": "x", "participants": []string{"15550007001"}}},
		{"GET", base + "/" + gid, nil},
		{"POST", base + "/" + gid + "/participants", map[string]any{"action": "add", "participants": []string{"15550007001"}}},
		{"POST", base + "/" + gid + "/leave", nil},
	} {
		r := b.Do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusConflict, r.Status, "%s %s: %s", rq.method, rq.path, r.Body)
		require.Equal(t, "channel_not_active", r.Code(t))
		require.Equal(t, map[string]any{"state": "inactive"}, r.JSON(t)["error"].(map[string]any)["details"])
	}
}

// A channel whose shard has no owner answers 503 at once, with Retry-After.
func TestChannelWithoutOwner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.ActiveChannel("")
	b.StopWorker() // the worker hands its ownertest.Shards off; no other takes them

	start := time.Now()
	r := b.Do("GET", "/v1/channels/"+ch+"/groups", ch, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
	require.Equal(t, "channel_unavailable", r.Code(t))
	require.Equal(t, "1", r.Header.Get("Retry-After"))
	require.Less(t, time.Since(start), time.Second, "answered at once, not after the timeout")

	r = b.Do("POST", "/v1/channels/"+ch+"/groups", ch, map[string]any{"name": "x", "participants": []string{"15550008001"}})
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
}

// A group creation with an Idempotency-Key creates one group however often
// it is retried; the same key with another request is refused.
func TestGroupCreationWithAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/groups"
	create := map[string]any{"name": "Orders", "participants": []string{"15550006001"}}
	key := map[string]string{"Idempotency-Key": "team-orders-1"}

	first := b.DoWith("POST", base, ch, create, key)
	require.Equal(t, http.StatusCreated, first.Status, "%s", first.Body)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))
	again := b.DoWith("POST", base, ch, create, key)
	require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body), "the retry answers the group the first request created")

	r := b.Do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.JSON(t)["data"], 1, "one group for two requests")

	r = b.DoWith("POST", base, ch, map[string]any{"name": "Other", "participants": []string{"15550006001"}}, key)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Equal(t, "idempotency_key_reused", r.Code(t))

	// Without a key, or with another, each request creates a group.
	require.Equal(t, http.StatusCreated, b.Do("POST", base, ch, create).Status)
	require.Equal(t, http.StatusCreated, b.DoWith("POST", base, ch, create, map[string]string{"Idempotency-Key": "team-orders-2"}).Status)
	r = b.Do("GET", base, ch, nil)
	require.Len(t, r.JSON(t)["data"], 3)

	r = b.DoWith("POST", base, ch, create, map[string]string{"Idempotency-Key": "has space"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, "validation_failed", r.Code(t))
}
