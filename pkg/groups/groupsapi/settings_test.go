package groupsapi_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups/groupsapi"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/ownerclient/ownertest"
	"github.com/wagate/wagate/pkg/shard"
)

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 64)), nil))
	return buf.Bytes()
}

// self is the user JID of a paired channel's account.
func self(b *ownertest.Bundle, ch string) string {
	b.T.Helper()
	c, err := b.Store.Channel(context.Background(), ch)
	require.NoError(b.T, err)
	user, server, _ := strings.Cut(c.JID, "@")
	user, _, _ = strings.Cut(user, ":")
	return user + "@" + server
}

// groupEvents follows the group events of a channel: next returns the
// one after those seen.
type groupEvents struct {
	b    *ownertest.Bundle
	ch   string
	seen int
}

func (g *groupEvents) next() (string, map[string]any) {
	g.b.T.Helper()
	g.seen++
	return awaitEvent(g.b, g.ch, g.seen)
}

// nextUpdate returns the next event, a group.updated, without its group,
// author and time.
func (g *groupEvents) nextUpdate(gid, by string) map[string]any {
	g.b.T.Helper()
	typ, d := g.next()
	require.Equal(g.b.T, event.GroupUpdated, typ, "%v", d)
	require.Equal(g.b.T, gid, d["group"])
	require.Equal(g.b.T, by, d["by"])
	delete(d, "group")
	delete(d, "by")
	delete(d, "timestamp")
	return d
}

// An admin reads and resets the invite link; another account joins by
// it, and not by a revoked one.
func TestInviteLinksAndJoining(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin, other := b.ActiveChannel(""), b.ActiveChannel("")
	adminJID, otherJID := self(b, admin), self(b, other)
	adminEvents, otherEvents := &groupEvents{b: b, ch: admin}, &groupEvents{b: b, ch: other}
	base := "/v1/channels/" + admin + "/groups"
	otherBase := "/v1/channels/" + other + "/groups"

	r := b.Do("POST", base, admin, map[string]any{"name": "Launch", "participants": []string{"15550009001"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gid := r.JSON(t)["id"].(string)
	typ, _ := adminEvents.next()
	require.Equal(t, event.GroupCreated, typ)

	r = b.Do("GET", base+"/"+gid+"/invite", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	inv := r.JSON(t)
	code := inv["code"].(string)
	require.Equal(t, gid, inv["group"])
	require.Equal(t, "https://chat.whatsapp.com/"+code, inv["invite"])
	r = b.Do("GET", base+"/"+strings.TrimSuffix(gid, "@g.us")+"/invite", ownertest.Admin, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, code, r.JSON(t)["code"], "reading the link again does not change it")

	// Not a participant: no link, no changes.
	r = b.Do("GET", otherBase+"/"+gid+"/invite", other, nil)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, "not_participant", r.Code(t))

	r = b.Do("POST", otherBase+"/join", other, map[string]any{"invite": inv["invite"]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	joined := r.JSON(t)
	require.Equal(t, "joined", joined["status"])
	require.Equal(t, gid, joined["id"])
	require.Equal(t, "Launch", joined["name"])
	require.Contains(t, joined["participants"], map[string]any{"jid": otherJID, "role": "member"})
	typ, d := otherEvents.next()
	require.Equal(t, event.GroupMemberAdded, typ)
	require.Equal(t, gid, d["group"])
	require.Equal(t, []any{otherJID}, d["participants"])
	require.Equal(t, "invite", d["reason"])

	// Joining again changes nothing; the code alone is a link too.
	r = b.Do("POST", otherBase+"/join", other, map[string]any{"invite": code})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "joined", r.JSON(t)["status"])

	// A member is no admin: no link, no reset.
	for _, rq := range []struct{ method, path string }{{"GET", "/invite"}, {"POST", "/invite/reset"}} {
		r = b.Do(rq.method, otherBase+"/"+gid+rq.path, other, nil)
		require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		require.Equal(t, "not_admin", r.Code(t))
	}

	r = b.Do("POST", base+"/"+gid+"/invite/reset", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	reset := r.JSON(t)
	require.NotEqual(t, code, reset["code"])
	require.Equal(t, map[string]any{"invite_link": reset["invite"]}, adminEvents.nextUpdate(gid, adminJID))
	r = b.Do("GET", base+"/"+gid+"/invite", admin, nil)
	require.Equal(t, reset["code"], r.JSON(t)["code"])

	r = b.Do("POST", otherBase+"/"+gid+"/leave", other, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	typ, _ = otherEvents.next()
	require.Equal(t, event.GroupMemberRemoved, typ)

	r = b.Do("POST", otherBase+"/join", other, map[string]any{"invite": inv["invite"]})
	require.Equal(t, http.StatusGone, r.Status, "%s", r.Body)
	require.Equal(t, "invite_revoked", r.Code(t))
	r = b.Do("POST", otherBase+"/join", other, map[string]any{"invite": "https://chat.whatsapp.com/AAAAAAAAAAAAAAAAAAAAAA"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.Equal(t, "invite_invalid", r.Code(t))
	r = b.Do("GET", otherBase+"/"+gid, other, nil)
	require.Equal(t, http.StatusForbidden, r.Status, "no refused join let the account in")

	r = b.Do("POST", otherBase+"/join", other, map[string]any{"invite": reset["invite"]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	typ, d = otherEvents.next()
	require.Equal(t, event.GroupMemberAdded, typ)
	require.Equal(t, []any{otherJID}, d["participants"])
}

// Name, description and settings change as WhatsApp lets them: settings
// by admins, the info by anyone until the group is locked. Each change is
// its own group.updated event; a request that needs an admin changes
// nothing when it comes from a member.
func TestGroupSettingsAndPicture(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin, member := b.ActiveChannel(""), b.ActiveChannel("")
	adminJID, memberJID := self(b, admin), self(b, member)
	events := &groupEvents{b: b, ch: admin}
	memberEvents := &groupEvents{b: b, ch: member}
	base := "/v1/channels/" + admin + "/groups"
	memberBase := "/v1/channels/" + member + "/groups"

	r := b.Do("POST", base, admin, map[string]any{"name": "Team", "participants": []string{memberJID}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gid := r.JSON(t)["id"].(string)
	typ, _ := events.next()
	require.Equal(t, event.GroupCreated, typ)
	path := base + "/" + gid

	r = b.Do("PATCH", path, admin, map[string]any{"name": "  Team A ", "description": "plans", "announce": true, "locked": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	g := r.JSON(t)
	require.Equal(t, "Team A", g["name"])
	require.Equal(t, "plans", g["topic"])
	require.Equal(t, true, g["announce"])
	require.Equal(t, true, g["locked"])
	require.Len(t, g["participants"], 2)
	require.Equal(t, map[string]any{"name": "Team A"}, events.nextUpdate(gid, adminJID))
	require.Equal(t, map[string]any{"topic": "plans"}, events.nextUpdate(gid, adminJID))
	require.Equal(t, map[string]any{"announce": true}, events.nextUpdate(gid, adminJID))
	require.Equal(t, map[string]any{"locked": true}, events.nextUpdate(gid, adminJID))

	r = b.Do("GET", memberBase+"/"+gid, member, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, g, r.JSON(t), "the member reads the group as changed")

	// A setting that has its value already is left alone: only the
	// announce change makes an event.
	r = b.Do("PATCH", path, admin, map[string]any{"name": "Team A", "locked": true, "announce": false})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, false, r.JSON(t)["announce"])
	require.Equal(t, map[string]any{"announce": false}, events.nextUpdate(gid, adminJID))

	// The group is locked: a member changes neither info nor settings,
	// nor the picture.
	for _, rq := range []struct {
		method string
		body   any
	}{
		{"PATCH", map[string]any{"name": "Mine"}},
		{"PATCH", map[string]any{"description": "mine"}},
		{"PATCH", map[string]any{"announce": true}},
		{"PUT", jpegBytes(t)},
		{"DELETE", nil},
	} {
		p := memberBase + "/" + gid
		if rq.method != "PATCH" {
			p += "/picture"
		}
		r = b.Do(rq.method, p, member, rq.body)
		require.Equal(t, http.StatusForbidden, r.Status, "%s %v: %s", rq.method, rq.body, r.Body)
		require.Equal(t, "not_admin", r.Code(t))
	}

	// Unlocked, a member edits the info but still not the settings; a
	// request with both changes nothing.
	r = b.Do("PATCH", path, admin, map[string]any{"locked": false})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[string]any{"locked": false}, events.nextUpdate(gid, adminJID))
	r = b.Do("PATCH", memberBase+"/"+gid, member, map[string]any{"name": "Ours", "announce": true})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, "not_admin", r.Code(t))
	r = b.Do("PATCH", memberBase+"/"+gid, member, map[string]any{"name": "Ours", "description": ""})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	g = r.JSON(t)
	require.Equal(t, "Ours", g["name"])
	require.NotContains(t, g, "topic")
	require.Equal(t, false, g["announce"], "the refused request changed nothing")
	require.Equal(t, map[string]any{"name": "Ours"}, memberEvents.nextUpdate(gid, memberJID))
	require.Equal(t, map[string]any{"topic_deleted": true}, memberEvents.nextUpdate(gid, memberJID))

	r = b.Do("PUT", path+"/picture", admin, jpegBytes(t))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	set := r.JSON(t)
	require.Equal(t, gid, set["group"])
	require.NotEmpty(t, set["picture_id"])
	require.Equal(t, map[string]any{"picture_id": set["picture_id"]}, events.nextUpdate(gid, adminJID))
	r = b.Do("DELETE", path+"/picture", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.JSONEq(t, `{"group":"`+gid+`","removed":true}`, string(r.Body))
	require.Equal(t, map[string]any{"picture_removed": true}, events.nextUpdate(gid, adminJID))

	// Removing a picture the group does not have reports nothing: the
	// next event is the next change.
	r = b.Do("DELETE", path+"/picture", admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = b.Do("PATCH", path, admin, map[string]any{"description": "again"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, map[string]any{"topic": "again"}, events.nextUpdate(gid, adminJID))

	// Who left changes nothing.
	r = b.Do("POST", memberBase+"/"+gid+"/leave", member, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = b.Do("PATCH", memberBase+"/"+gid, member, map[string]any{"name": "Gone"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Equal(t, "not_participant", r.Code(t))
}

func TestSettingsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.ActiveChannel("")
	base := "/v1/channels/" + ch + "/groups"
	r := b.Do("POST", base, ch, map[string]any{"name": "Kept", "participants": []string{"15550006001"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gid := r.JSON(t)["id"].(string)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"an empty patch body", "PATCH", "/" + gid, "", 400, "invalid_json"},
		{"a patch that changes nothing", "PATCH", "/" + gid, map[string]any{}, 400, "validation_failed"},
		{"a blank name", "PATCH", "/" + gid, map[string]any{"name": "  "}, 400, "validation_failed"},
		{"a name of 101 characters", "PATCH", "/" + gid, map[string]any{"name": strings.Repeat("ü", 101)}, 400, "validation_failed"},
		{"a description of 2049 characters", "PATCH", "/" + gid, map[string]any{"description": strings.Repeat("d", 2049)}, 400, "validation_failed"},
		{"announce not a boolean", "PATCH", "/" + gid, map[string]any{"announce": "yes"}, 400, "invalid_field_type"},
		{"an unknown setting", "PATCH", "/" + gid, map[string]any{"ephemeral": 60}, 400, "unknown_field"},
		{"a patch of a group id that is not one", "PATCH", "/not-a-group", map[string]any{"name": "x"}, 400, "validation_failed"},
		{"a patch of an unknown group", "PATCH", "/120363999999999999@g.us", map[string]any{"name": "x"}, 404, "group_not_found"},
		{"the invite of an unknown group", "GET", "/120363999999999999@g.us/invite", nil, 404, "group_not_found"},
		{"a reset of an unknown group", "POST", "/120363999999999999@g.us/invite/reset", nil, 404, "group_not_found"},
		{"a body to reset", "POST", "/" + gid + "/invite/reset", map[string]any{"now": true}, 400, "unknown_field"},
		{"a join without a body", "POST", "/join", "", 400, "invalid_json"},
		{"a join without an invite", "POST", "/join", map[string]any{}, 400, "validation_failed"},
		{"a join by another site's link", "POST", "/join", map[string]any{"invite": "https://example.com/AbCdEfGhIjKlMnOpQrStUv"}, 400, "validation_failed"},
		{"a join by a code with spaces", "POST", "/join", map[string]any{"invite": "AbCd EfGh IjKl"}, 400, "validation_failed"},
		{"a picture that is not a JPEG", "PUT", "/" + gid + "/picture", []byte("GIF89a not a jpeg"), 400, "invalid_image"},
		{"a picture as JSON", "PUT", "/" + gid + "/picture", map[string]any{"jpeg": "x"}, 415, "unsupported_media_type"},
		{"a picture over 512 KiB", "PUT", "/" + gid + "/picture", make([]byte, 512<<10+1), 413, "body_too_large"},
		{"the picture of an unknown group", "PUT", "/120363999999999999@g.us/picture", jpegBytes(t), 404, "group_not_found"},
		{"removing the picture of an unknown group", "DELETE", "/120363999999999999@g.us/picture", nil, 404, "group_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.Do(tc.method, base+tc.path, ch, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.Equal(t, tc.code, r.Code(t), "%s", r.Body)
		})
	}
	r = b.Do("GET", base+"/"+gid, ch, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Kept", r.JSON(t)["name"], "no bad request changed the group")
	evs := b.EventsOf(ch, "group.")
	require.Len(t, evs, 1, "only the creation: %v", evs)
}

// The new routes need an active channel, and answer 504 owner_timeout
// when the channel's worker does not answer.
func TestSettingsWithoutAWorkingOwner(t *testing.T) {
	t.Parallel()
	b := ownertest.Setup(t, ownertest.Options{Timeout: time.Second}, func(e *gin.Engine, auth gin.HandlerFunc, owner ownerclient.Config, _ *ownertest.Bundle) {
		groupsapi.NewHandlers(owner).Mount(e, auth)
	})
	gid := "120363000000000001@g.us"
	routes := func(ch string) []struct {
		method, path string
		body         any
	} {
		base := "/v1/channels/" + ch + "/groups"
		return []struct {
			method, path string
			body         any
		}{
			{"GET", base + "/" + gid + "/invite", nil},
			{"POST", base + "/" + gid + "/invite/reset", nil},
			{"POST", base + "/join", map[string]any{"invite": "AbCdEfGhIjKlMnOpQrStUv"}},
			{"PATCH", base + "/" + gid, map[string]any{"announce": true}},
			{"PUT", base + "/" + gid + "/picture", jpegBytes(t)},
			{"DELETE", base + "/" + gid + "/picture", nil},
		}
	}

	stopped := b.Channel("")
	for _, rq := range routes(stopped) {
		r := b.Do(rq.method, rq.path, stopped, rq.body)
		require.Equal(t, http.StatusConflict, r.Status, "%s %s: %s", rq.method, rq.path, r.Body)
		require.Equal(t, "channel_not_active", r.Code(t))
		require.Equal(t, map[string]any{"state": "inactive"}, r.JSON(t)["error"].(map[string]any)["details"])
	}

	ch := b.ActiveChannel("")
	b.StopWorker() // the channel stays active in the store
	// A stand-in owner that takes the shard's requests and never answers.
	held := make(chan *nats.Msg, 16)
	sub, err := b.Bus.Conn.ChanSubscribe(b.Bus.Names.RPCShardFilter(shard.Of(ch, ownertest.Shards)), held)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	for _, rq := range routes(ch) {
		r := b.Do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusGatewayTimeout, r.Status, "%s %s: %s", rq.method, rq.path, r.Body)
		require.Equal(t, "owner_timeout", r.Code(t))
	}
	require.Len(t, held, 6, "each request reached the stand-in once")
}
