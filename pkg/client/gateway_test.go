package client_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/app/apptest"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// gateway starts an in-process gateway on the simulator with real
// Postgres, Redis and an embedded NATS, and returns it with an admin
// client of its API.
func gateway(t *testing.T) (*app.Gateway, *client.Client) {
	t.Helper()
	g := apptest.Start(t, nil, app.Options{Worker: func(c *worker.Config) {
		c.ResumeSpread = 20 * time.Millisecond
	}})
	c, err := client.New(g.URL(), g.AdminToken())
	require.NoError(t, err)
	require.Equal(t, strings.TrimSuffix(g.URL(), "/"), strings.TrimSuffix(c.BaseURL(), "/"))
	return g, c
}

func waitState(t *testing.T, c *client.Client, id, want string) {
	t.Helper()
	ctx := t.Context()
	state := ""
	testenv.Eventually(t, 15*time.Second, func() bool {
		ch, err := c.GetChannel(ctx, id)
		require.NoError(t, err)
		state = ch.State
		return state == want
	}, "channel %s to be %s (is %s)", id, want, state)
}

// pair creates a channel and pairs it through the client: start, a QR
// code, a simulated scan by the phone +1 555 765 4321.
func pair(t *testing.T, c *client.Client, name string) *client.ChannelCreated {
	t.Helper()
	return pairAs(t, c, name, "15557654321")
}

// pairAs is pair with the phone that scans the code.
func pairAs(t *testing.T, c *client.Client, name, phone string) *client.ChannelCreated {
	t.Helper()
	ctx := t.Context()
	ch, err := c.CreateChannel(ctx, client.CreateChannelRequest{Name: name})
	require.NoError(t, err)
	require.Equal(t, client.StateInactive, ch.State)
	require.NotEmpty(t, ch.Token)
	acc, err := c.StartChannel(ctx, ch.ID, client.WithIdempotencyKey("start-"+ch.ID))
	require.NoError(t, err)
	require.Equal(t, "start", acc.Action)
	waitState(t, c, ch.ID, client.StateQRPending)
	var qr *client.QR
	testenv.Eventually(t, 10*time.Second, func() bool {
		qr, err = c.GetQR(ctx, ch.ID)
		return err == nil
	}, "a QR code (last error %v)", err)
	require.NotEmpty(t, qr.Code)
	require.GreaterOrEqual(t, qr.Attempt, 1)
	png, err := c.GetQRPNG(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, "\x89PNG", string(png[:4]))
	_, err = c.Simulate(ctx, ch.ID, client.SimScan, map[string]any{"phone": phone})
	require.NoError(t, err)
	waitState(t, c, ch.ID, client.StateActive)
	return ch
}

// The client against one running gateway: pairing, idempotent sends,
// paging, typed errors, streams with resume, commands on NATS and a
// verified webhook delivery. One gateway serves every subtest, because
// starting one is most of the cost on a small machine.
func TestClientAgainstAGateway(t *testing.T) {
	g, admin := gateway(t)
	ch := pair(t, admin, "client")
	// The channel's own token reaches its routes.
	c := admin.WithToken(ch.Token)

	t.Run("pairing leaves history, health and usage", func(t *testing.T) {
		ctx := t.Context()
		got, err := c.GetChannel(ctx, ch.ID)
		require.NoError(t, err)
		require.Equal(t, "15557654321", got.Phone)
		var tos []string
		for e, err := range c.ChannelHistoryAll(ctx, ch.ID, client.HistoryParams{Limit: 1}) {
			require.NoError(t, err)
			tos = append(tos, e.To)
		}
		require.Contains(t, tos, client.StateQRPending)
		require.Equal(t, client.StateActive, tos[0], "newest first")
		page, err := c.ChannelHistory(ctx, ch.ID, client.HistoryParams{Limit: 1})
		require.NoError(t, err)
		require.Len(t, page.Data, 1)
		require.Equal(t, client.StateActive, page.Data[0].To)
		require.NotNil(t, page.NextBefore, "older entries follow")
		h, err := c.ChannelHealth(ctx, ch.ID)
		require.NoError(t, err)
		require.Equal(t, client.StateActive, h.State)
		u, err := c.ChannelUsage(ctx, ch.ID, 3)
		require.NoError(t, err)
		require.Len(t, u.Data, 3)
		_, err = c.GetQR(ctx, ch.ID)
		require.True(t, client.IsCode(err, "qr_not_available"), "%v", err)
	})

	t.Run("an idempotency key answers the first send", func(t *testing.T) {
		ctx := t.Context()
		m := client.SendMessageRequest{To: "+1 555 010 2030", Type: client.TypeText, Text: "Your order has shipped"}
		first, err := c.SendMessage(ctx, ch.ID, m, client.WithIdempotencyKey("order-42"))
		require.NoError(t, err)
		require.False(t, first.Replayed)
		require.Equal(t, client.StatusQueued, first.Status)
		again, err := c.SendMessage(ctx, ch.ID, m, client.WithIdempotencyKey("order-42"))
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, first.ID, again.ID)
		m.Text = "another text"
		_, err = c.SendMessage(ctx, ch.ID, m, client.WithIdempotencyKey("order-42"))
		require.True(t, client.IsCode(err, "idempotency_key_reused"), "%v", err)
		require.True(t, client.IsStatus(err, http.StatusUnprocessableEntity))
		got, err := c.GetMessage(ctx, ch.ID, first.ID)
		require.NoError(t, err)
		require.Equal(t, "order-42", got.IdempotencyKey)
		testenv.Eventually(t, 10*time.Second, func() bool {
			got, err = c.GetMessage(ctx, ch.ID, first.ID)
			require.NoError(t, err)
			return got.Status == client.StatusRead
		}, "the message to be read (is %s)", got.Status)
	})

	t.Run("a failed message says why with a stable code", func(t *testing.T) {
		ctx := t.Context()
		a, err := c.SendMessage(ctx, ch.ID, client.SendMessageRequest{To: "+1 555 010 0000", Type: client.TypeText, Text: "to nobody"})
		require.NoError(t, err)
		var got *client.Message
		testenv.Eventually(t, 10*time.Second, func() bool {
			got, err = c.GetMessage(ctx, ch.ID, a.ID)
			require.NoError(t, err)
			return got.Status == client.StatusFailed
		}, "the message to a number without WhatsApp to fail")
		require.Equal(t, "not_on_whatsapp", got.Code)
		require.NotEmpty(t, got.Reason)
	})

	t.Run("paging walks every message once", func(t *testing.T) {
		ctx := t.Context()
		sent := map[string]bool{}
		for i := range 7 {
			a, err := c.SendMessage(ctx, ch.ID, client.SendMessageRequest{To: "15550102031", Type: client.TypeText, Text: "page " + strconv.Itoa(i)},
				client.WithIdempotencyKey("page-"+strconv.Itoa(i)))
			require.NoError(t, err)
			sent[a.ID] = true
		}
		var seen []string
		for m, err := range c.MessagesAll(ctx, ch.ID, client.ListMessagesParams{Chat: "15550102031", Limit: 3}) {
			require.NoError(t, err)
			seen = append(seen, m.ID)
		}
		require.Len(t, seen, len(sent))
		for _, id := range seen {
			require.True(t, sent[id], "%s was not sent by this test", id)
		}
		require.True(t, slices.IsSortedFunc(seen, func(a, b string) int { return -cmpStr(a, b) }), "newest first: %v", seen)
		page, err := c.ListMessages(ctx, ch.ID, client.ListMessagesParams{Chat: "15550102031", Limit: 7})
		require.NoError(t, err)
		require.Len(t, page.Data, 7)
		require.NotNil(t, page.NextBefore, "a full page names a cursor")
		var n int
		for _, err := range admin.ChannelsAll(ctx, client.ListChannelsParams{Limit: 1}) {
			require.NoError(t, err)
			n++
		}
		require.GreaterOrEqual(t, n, 1)
	})

	t.Run("errors carry the API's code", func(t *testing.T) {
		ctx := t.Context()
		_, err := admin.GetChannel(ctx, "ch_00000000000000000000000000")
		e, ok := errorsAs(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, http.StatusNotFound, e.Status)
		require.Equal(t, "channel_not_found", e.Code)
		require.True(t, client.IsCode(err, "channel_not_found"))
		require.True(t, client.IsNotFound(err))
		require.NotEmpty(t, e.Message)

		_, err = admin.CreateChannel(ctx, client.CreateChannelRequest{Name: ""})
		require.True(t, client.IsCode(err, "validation_failed"), "%v", err)
		e, _ = errorsAs(err)
		require.Equal(t, http.StatusBadRequest, e.Status)
		var d struct {
			Field string `json:"field"`
		}
		require.NoError(t, e.DetailsInto(&d))
		require.Equal(t, "name", d.Field)

		_, err = c.SendMessage(ctx, ch.ID, client.SendMessageRequest{To: "not a number", Type: client.TypeText, Text: "x"})
		require.True(t, client.IsCode(err, "invalid_recipient"), "%v", err)
		// A channel token reaches only its channel; the admin routes
		// answer 401.
		_, err = c.ListChannels(ctx, client.ListChannelsParams{})
		require.True(t, client.IsCode(err, "unauthorized"), "%v", err)
	})

	t.Run("SSE stream resumes after the last event", func(t *testing.T) {
		ctx := t.Context()
		s := c.ChannelEvents(ctx, ch.ID, client.StreamOptions{})
		ev := next(t, s)
		require.Equal(t, client.KindReady, ev.Kind)
		require.False(t, ev.Ready.Resumed)
		_, err := c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "first"})
		require.NoError(t, err)
		first := nextOfType(t, s, "message.received")
		require.Equal(t, ch.ID, first.Event.ChannelID)
		last := s.LastEventID()
		require.GreaterOrEqual(t, last, first.ID)
		require.NoError(t, s.Close())

		// While no one listens, another message arrives; a new stream from
		// the last id replays it before ready.
		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, client.SimInboundArgs{From: "15550102030", Text: "while away"})
		require.NoError(t, err)
		isAway := func(e client.StreamEvent) bool {
			var d struct {
				Text string `json:"text"`
			}
			return e.Kind == client.KindEvent && e.Event.Type == "message.received" && e.Event.DataInto(&d) == nil && d.Text == "while away"
		}
		// The message is recorded before its event is relayed to the
		// stream: a probe stream waits for the event (live or replayed),
		// so the resume below finds it stored.
		probe := c.ChannelEvents(ctx, ch.ID, client.StreamOptions{LastEventID: last})
		for !isAway(next(t, probe)) {
		}
		require.NoError(t, probe.Close())
		s = c.ChannelEvents(ctx, ch.ID, client.StreamOptions{LastEventID: last})
		defer s.Close()
		var replayed []client.StreamEvent
		for {
			ev := next(t, s)
			if ev.Kind == client.KindReady {
				require.True(t, ev.Ready.Resumed)
				require.Equal(t, len(replayed), ev.Ready.Replayed)
				break
			}
			require.Equal(t, client.KindEvent, ev.Kind)
			require.Greater(t, ev.ID, last)
			replayed = append(replayed, ev)
		}
		require.True(t, slices.ContainsFunc(replayed, isAway), "the message that arrived while away is replayed")
	})

	t.Run("a stream reconnects by itself and loses nothing", func(t *testing.T) {
		ctx := t.Context()
		var mu sync.Mutex
		reconnects := 0
		// An idle timeout far below the heartbeat makes the stream drop
		// and resume its connection again and again.
		s := c.ChannelEvents(ctx, ch.ID, client.StreamOptions{IdleTimeout: 150 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
			OnReconnect: func(error) { mu.Lock(); reconnects++; mu.Unlock() }})
		defer s.Close()
		require.Equal(t, client.KindReady, next(t, s).Kind)
		const n = 4
		go func() {
			for i := range n {
				time.Sleep(200 * time.Millisecond)
				_, _ = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "r" + strconv.Itoa(i)})
			}
		}()
		var texts []string
		var ids []uint64
		for len(texts) < n {
			ev := next(t, s)
			if ev.Kind != client.KindEvent {
				continue
			}
			require.NotContains(t, ids, ev.ID, "an event twice")
			ids = append(ids, ev.ID)
			if ev.Event.Type == "message.received" {
				var d struct {
					Text string `json:"text"`
				}
				require.NoError(t, ev.Event.DataInto(&d))
				texts = append(texts, d.Text)
			}
		}
		require.Equal(t, []string{"r0", "r1", "r2", "r3"}, texts)
		require.True(t, slices.IsSorted(ids))
		mu.Lock()
		defer mu.Unlock()
		require.Positive(t, reconnects)
	})

	t.Run("WebSocket stream with a stream token", func(t *testing.T) {
		ctx := t.Context()
		tok, err := c.CreateStreamToken(ctx, client.StreamTokenRequest{ChannelID: ch.ID})
		require.NoError(t, err)
		s := admin.ChannelSocket(ctx, ch.ID, client.StreamOptions{StreamToken: tok.Token})
		defer s.Close()
		require.Equal(t, client.KindReady, next(t, s).Kind)
		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "over ws"})
		require.NoError(t, err)
		ev := nextOfType(t, s, "message.received")
		require.Equal(t, ch.ID, ev.Event.ChannelID)

		// A wrong token is refused for good, not retried forever.
		bad := admin.ChannelEvents(ctx, ch.ID, client.StreamOptions{StreamToken: "wgs_nope"})
		_, err = bad.Next()
		require.True(t, client.IsStatus(err, http.StatusUnauthorized), "%v", err)
	})

	t.Run("commands on NATS answer on an inbox", func(t *testing.T) {
		ctx := t.Context()
		p, err := client.NewCommandPublisher(g.Deps.Bus.Conn, client.WithSubjectPrefix(g.Deps.Bus.Names.Prefix()))
		require.NoError(t, err)
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		m := client.SendMessageRequest{To: "15550102032", Type: client.TypeText, Text: "over NATS"}
		out, err := p.SendAndWait(rctx, ch.ID, m, "nats-1")
		require.NoError(t, err)
		require.Equal(t, "accepted", out.Status)
		require.Equal(t, "nats-1", out.MsgID)
		require.False(t, out.Ack.Duplicate)
		l, err := c.ListMessages(ctx, ch.ID, client.ListMessagesParams{Chat: "15550102032"})
		require.NoError(t, err)
		require.Len(t, l.Data, 1)
		require.Equal(t, "nats-1", l.Data[0].IdempotencyKey)

		again, err := p.SendAndWait(rctx, ch.ID, m, "nats-1")
		require.NoError(t, err)
		require.Equal(t, "duplicate", again.Status)

		_, err = p.SendAndWait(rctx, ch.ID, client.SendMessageRequest{To: "nobody", Type: client.TypeText, Text: "x"}, "nats-2")
		fe, ok := errorsAsCommand(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "invalid_send", fe.Code)
		require.Equal(t, "invalid_recipient", fe.ErrorCode)
		require.Equal(t, "nats-2", fe.MsgID)

		_, err = p.Request(rctx, "ch_00000000000000000000000000", client.VerbSend, m, "nats-3")
		require.True(t, client.IsCode(err, "unknown_channel"), "%v", err)

		ack, err := p.Send(rctx, ch.ID, client.SendMessageRequest{To: "15550102032", Type: client.TypeText, Text: "fire and forget"}, "nats-4")
		require.NoError(t, err)
		require.Positive(t, ack.Sequence)
		testenv.Eventually(t, 10*time.Second, func() bool {
			l, err := c.ListMessages(ctx, ch.ID, client.ListMessagesParams{Chat: "15550102032"})
			require.NoError(t, err)
			return len(l.Data) == 2
		}, "the published send in the log")
	})

	t.Run("a real webhook delivery verifies, before and after a rotation", func(t *testing.T) {
		ctx := t.Context()
		type got struct {
			ev     *client.WebhookEvent
			oldOK  bool
			header http.Header
		}
		events := make(chan got, 64)
		var mu sync.Mutex
		var verifier, oldOnly *client.WebhookVerifier
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			v, o := verifier, oldOnly
			mu.Unlock()
			v.Handler(func(r *http.Request, ev *client.WebhookEvent) error {
				events <- got{ev: ev, oldOK: o != nil && o.Verify(r.Header, ev.Raw) == nil, header: r.Header.Clone()}
				return nil
			}).ServeHTTP(w, r)
		}))
		defer rcv.Close()
		wh, err := c.CreateChannelWebhook(ctx, ch.ID, client.CreateWebhookRequest{URL: rcv.URL, Events: []string{"message.received"}})
		require.NoError(t, err)
		require.Equal(t, ch.ID, *wh.ChannelID)
		mu.Lock()
		verifier, err = client.NewWebhookVerifier(wh.Secret)
		mu.Unlock()
		require.NoError(t, err)

		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "hooked"})
		require.NoError(t, err)
		first := receive(t, events)
		require.Equal(t, "message.received", first.ev.Type)
		require.Equal(t, first.ev.ID, first.header.Get(client.HeaderWebhookID))
		require.Equal(t, strconv.FormatUint(first.ev.Seq, 10), first.header.Get(client.HeaderWebhookSequence))

		// After a rotation both secrets sign during the grace period: a
		// receiver holding only the new one, or only the old one, verifies.
		rot, err := c.RotateChannelWebhookSecret(ctx, ch.ID, wh.ID, client.RotateWebhookRequest{GracePeriod: "1h"})
		require.NoError(t, err)
		require.NotEqual(t, wh.Secret, rot.Secret)
		newOnly, err := client.NewWebhookVerifier(rot.Secret)
		require.NoError(t, err)
		old, err := client.NewWebhookVerifier(wh.Secret)
		require.NoError(t, err)
		mu.Lock()
		verifier, oldOnly = newOnly, old
		mu.Unlock()
		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "rotated"})
		require.NoError(t, err)
		second := receive(t, events)
		require.True(t, second.oldOK, "the old secret still signs during the grace period")

		// Outcomes are recorded in groups, shortly after the answer.
		delivered := 0
		testenv.Eventually(t, 10*time.Second, func() bool {
			delivered = 0
			for d, err := range c.DeliveriesAll(func(p client.DeliveryParams) (*client.DeliveryPage, error) {
				return c.ListChannelWebhookDeliveries(ctx, ch.ID, wh.ID, p)
			}, client.DeliveryParams{Limit: 1}) {
				require.NoError(t, err)
				if d.Status == client.DeliveryDelivered {
					require.NotEmpty(t, d.Attempts)
					delivered++
				}
			}
			return delivered == 2
		}, "both deliveries in the log as delivered (%d)", delivered)
		require.NoError(t, c.DeleteChannelWebhook(ctx, ch.ID, wh.ID))
		_, err = c.GetChannelWebhook(ctx, ch.ID, wh.ID)
		require.True(t, client.IsCode(err, "webhook_not_found"), "%v", err)
	})

	t.Run("chats from the message log", func(t *testing.T) {
		ctx := t.Context()
		var chats []client.Chat
		for ct, err := range c.ChatsAll(ctx, ch.ID, client.ListChatsParams{Limit: 1}) {
			require.NoError(t, err)
			chats = append(chats, ct)
		}
		require.GreaterOrEqual(t, len(chats), 2, "the tests above wrote to several chats")
		i := slices.IndexFunc(chats, func(ct client.Chat) bool { return ct.Chat == "15550102030@s.whatsapp.net" })
		require.GreaterOrEqual(t, i, 0, "%v", chats)
		require.NotNil(t, chats[i].LastMessage)
		msgs, err := c.ListChatMessages(ctx, ch.ID, "15550102030", client.ChatMessagesParams{Limit: 2})
		require.NoError(t, err)
		require.Len(t, msgs.Data, 2)
		require.NotNil(t, msgs.NextBefore)
		yes := true
		archived, err := c.UpdateChat(ctx, ch.ID, "15550102030", client.ChatUpdate{Archived: &yes})
		require.NoError(t, err)
		require.True(t, archived.Archived)
		l, err := c.ListChats(ctx, ch.ID, client.ListChatsParams{Archived: &yes})
		require.NoError(t, err)
		require.Len(t, l.Data, 1)
		require.Equal(t, "15550102030@s.whatsapp.net", l.Data[0].Chat)
	})

	t.Run("groups, contacts, profile and blocklist", func(t *testing.T) {
		ctx := t.Context()
		g, err := c.CreateGroup(ctx, ch.ID, client.CreateGroupRequest{Name: "Support", Participants: []string{"+1 555 000 5001", "15550005002"}},
			client.WithIdempotencyKey("group-1"))
		require.NoError(t, err)
		again, err := c.CreateGroup(ctx, ch.ID, client.CreateGroupRequest{Name: "Support", Participants: []string{"+1 555 000 5001", "15550005002"}},
			client.WithIdempotencyKey("group-1"))
		require.NoError(t, err)
		require.Equal(t, g.ID, again.ID, "a retry answers the group the first request created")
		groups, err := c.ListGroups(ctx, ch.ID)
		require.NoError(t, err)
		require.Len(t, groups.Data, 1)
		changed, err := c.UpdateGroupParticipants(ctx, ch.ID, g.ID, client.GroupParticipantsRequest{Action: client.ParticipantsAdd, Participants: []string{"15550005003"}})
		require.NoError(t, err)
		require.Equal(t, "ok", changed.Participants[0].Status)
		got, err := c.GetGroup(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Len(t, got.Participants, 4)
		inv, err := c.GetGroupInvite(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Equal(t, g.ID, inv.Group)
		require.NotEmpty(t, inv.Code)
		require.Equal(t, "https://chat.whatsapp.com/"+inv.Code, inv.Invite)
		before := inv.Invite
		reset, err := c.ResetGroupInvite(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Equal(t, g.ID, reset.Group)
		require.NotEqual(t, inv.Code, reset.Code, "a reset makes a new link")
		inv, err = c.GetGroupInvite(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Equal(t, reset.Code, inv.Code)
		_, err = c.JoinGroup(ctx, ch.ID, client.JoinGroupRequest{Invite: "https://chat.whatsapp.com/AAAAAAAAAAAAAAAAAAAAAA"})
		require.True(t, client.IsCode(err, "invite_invalid"), "%v", err)

		// Another number joins by the link: it is a member after, and the
		// link it had before the reset no longer lets anybody in.
		joiner := pairAs(t, admin, "joiner", "15557650099")
		who, err := admin.GetChannel(ctx, joiner.ID)
		require.NoError(t, err)
		user := "15557650099@s.whatsapp.net" // the channel's JID names its device: 15557650099:N@…
		require.True(t, strings.HasPrefix(who.JID, "15557650099:"), who.JID)
		_, err = admin.JoinGroup(ctx, joiner.ID, client.JoinGroupRequest{Invite: before})
		require.Error(t, err, "the link from before the reset")
		require.True(t, client.IsCode(err, "invite_revoked"), "%v", err)
		joined, err := admin.JoinGroup(ctx, joiner.ID, client.JoinGroupRequest{Invite: inv.Invite})
		require.NoError(t, err)
		require.Equal(t, "joined", joined.Status)
		require.Equal(t, g.ID, joined.ID)
		require.True(t, slices.ContainsFunc(joined.Participants, func(p client.GroupParticipant) bool { return p.JID == user && p.Role == "member" }),
			"%s among %+v", user, joined.Participants)
		members, err := c.GetGroup(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Len(t, members.Participants, 5, "the creator's channel sees the new member")
		again2, err := admin.JoinGroup(ctx, joiner.ID, client.JoinGroupRequest{Invite: inv.Code})
		require.NoError(t, err, "a bare code works too, and joining twice changes nothing")
		require.Len(t, again2.Participants, 5)
		name, topic, locked := "Support desk", "Mon-Fri", true
		upd, err := c.UpdateGroup(ctx, ch.ID, g.ID, client.GroupUpdate{Name: &name, Description: &topic, Locked: &locked})
		require.NoError(t, err)
		require.Equal(t, name, upd.Name)
		require.Equal(t, topic, upd.Topic)
		require.True(t, upd.Locked)
		var gjpg bytes.Buffer
		require.NoError(t, jpeg.Encode(&gjpg, image.NewRGBA(image.Rect(0, 0, 64, 64)), nil))
		gpic, err := c.SetGroupPicture(ctx, ch.ID, g.ID, gjpg.Bytes())
		require.NoError(t, err)
		require.Equal(t, g.ID, gpic.Group)
		require.NotEmpty(t, gpic.PictureID)
		_, err = c.SetGroupPicture(ctx, ch.ID, g.ID, []byte("not a jpeg"))
		require.Error(t, err)
		grem, err := c.DeleteGroupPicture(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.Equal(t, g.ID, grem.Group)
		require.True(t, grem.Removed)
		left, err := c.LeaveGroup(ctx, ch.ID, g.ID)
		require.NoError(t, err)
		require.True(t, left.Left)

		checks, err := c.CheckNumbers(ctx, ch.ID, client.NumberCheckRequest{Phones: []string{"+1 555 010 2030", "15550100000"}})
		require.NoError(t, err)
		require.Len(t, checks.Data, 2)
		require.True(t, checks.Data[0].Exists)
		require.False(t, checks.Data[1].Exists, "the simulator has no account for numbers ending in 0000")
		_, err = c.Simulate(ctx, ch.ID, client.SimContact, map[string]any{"phone": "15552220002", "push_name": "carol", "picture": true})
		require.NoError(t, err)
		testenv.Eventually(t, 5*time.Second, func() bool {
			l, err := c.ListContacts(ctx, ch.ID)
			require.NoError(t, err)
			return len(l.Data) == 1
		}, "the contact")
		contact, err := c.GetContact(ctx, ch.ID, "15552220002")
		require.NoError(t, err)
		require.Equal(t, "15552220002@s.whatsapp.net", contact.JID)
		pic, err := c.GetContactPicture(ctx, ch.ID, "15552220002", true)
		require.NoError(t, err)
		require.Equal(t, "preview", pic.Type)
		_, err = c.GetContact(ctx, ch.ID, "15552220000")
		require.True(t, client.IsCode(err, "contact_not_found"), "%v", err)

		about := "9-17 CET"
		prof, err := c.UpdateProfile(ctx, ch.ID, client.ProfilePatch{About: &about})
		require.NoError(t, err)
		require.Equal(t, about, prof.About)
		var jpg bytes.Buffer
		require.NoError(t, jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 64, 64)), nil))
		set, err := c.SetProfilePicture(ctx, ch.ID, jpg.Bytes())
		require.NoError(t, err)
		prof, err = c.GetProfile(ctx, ch.ID)
		require.NoError(t, err)
		require.Equal(t, set.PictureID, prof.PictureID)

		blocked, err := c.BlockContact(ctx, ch.ID, "15552220002")
		require.NoError(t, err)
		require.True(t, blocked.Blocked)
		bl, err := c.GetBlocklist(ctx, ch.ID)
		require.NoError(t, err)
		require.Len(t, bl.Data, 1)
		unblocked, err := c.UnblockContact(ctx, ch.ID, "15552220002")
		require.NoError(t, err)
		require.Empty(t, unblocked.Data)
	})

	t.Run("probes, document and pairing by phone", func(t *testing.T) {
		ctx := t.Context()
		h, err := admin.Healthz(ctx)
		require.NoError(t, err)
		require.Equal(t, "ok", h.Status)
		r, err := admin.Readyz(ctx)
		require.NoError(t, err)
		require.Equal(t, "ready", r.Status)
		m, err := admin.Metrics(ctx)
		require.NoError(t, err)
		require.Contains(t, string(m), "# TYPE")
		doc, err := admin.OpenAPI(ctx)
		require.NoError(t, err)
		require.Contains(t, string(doc), "openapi: 3.1.0")

		other, err := admin.CreateChannel(ctx, client.CreateChannelRequest{Name: "by phone"})
		require.NoError(t, err)
		acc, err := admin.PairPhone(ctx, other.ID, client.PairPhoneRequest{Phone: "+49 151 2345678"}, client.WithIdempotencyKey("pair-1"))
		require.NoError(t, err)
		require.Equal(t, "491512345678", acc.Phone)
		var code *client.PairingCode
		testenv.Eventually(t, 10*time.Second, func() bool {
			code, err = admin.GetPairingCode(ctx, other.ID)
			return err == nil
		}, "a pairing code (last error %v)", err)
		require.Len(t, code.Code, 9)
		_, err = admin.PairPhone(ctx, ch.ID, client.PairPhoneRequest{Phone: "+49 151 2345678"})
		require.True(t, client.IsCode(err, "already_paired"), "%v", err)
	})

	t.Run("media of a received message", func(t *testing.T) {
		ctx := t.Context()
		_, err := c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"id": "3ACLIENTIMG", "from": "15550102039", "type": "image", "size": 20_000, "caption": "look"})
		require.NoError(t, err)
		var id string
		testenv.Eventually(t, 10*time.Second, func() bool {
			l, err := c.ListMessages(ctx, ch.ID, client.ListMessagesParams{Chat: "15550102039"})
			require.NoError(t, err)
			if len(l.Data) == 1 {
				id = l.Data[0].ID
			}
			return id != ""
		}, "the image message")
		var file []byte
		var ctype string
		testenv.Eventually(t, 15*time.Second, func() bool {
			file, ctype, err = c.GetMessageMedia(ctx, ch.ID, id)
			if errors.Is(err, client.ErrMediaPending) {
				return false
			}
			require.NoError(t, err)
			return true
		}, "the file (last error %v)", err)
		require.Equal(t, "image/png", ctype, "the simulator's images are PNGs")
		require.Equal(t, "\x89PNG", string(file[:4]))
		_, _, err = c.GetMessageMedia(ctx, ch.ID, "msg_01hzzzzzzzzzzzzzzzzzzzzzzz")
		require.Error(t, err)
		require.False(t, errors.Is(err, client.ErrMediaPending))
	})

	t.Run("read receipts, presence and the admin streams", func(t *testing.T) {
		ctx := t.Context()
		sse := admin.Events(ctx, client.StreamOptions{})
		defer sse.Close()
		require.Equal(t, client.KindReady, next(t, sse).Kind)
		ws := admin.Socket(ctx, client.StreamOptions{})
		defer ws.Close()
		require.Equal(t, client.KindReady, next(t, ws).Kind)
		l, err := c.ListMessages(ctx, ch.ID, client.ListMessagesParams{Direction: "inbound", Limit: 1})
		require.NoError(t, err)
		q, err := c.MarkRead(ctx, ch.ID, client.ReadRequest{Chat: "15550102030", MessageIDs: []string{l.Data[0].ID}})
		require.NoError(t, err)
		require.Equal(t, "read", q.Action)
		q, err = c.SendPresence(ctx, ch.ID, client.PresenceRequest{State: client.PresenceComposing, Chat: "15550102030"})
		require.NoError(t, err)
		require.Equal(t, "presence", q.Action)
		_, err = c.SendPresence(ctx, ch.ID, client.PresenceRequest{State: client.PresenceComposing})
		require.True(t, client.IsCode(err, "validation_failed"), "%v", err)
		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "to every stream"})
		require.NoError(t, err)
		for _, s := range []*client.Stream{sse, ws} {
			ev := nextOfType(t, s, "message.received")
			require.Equal(t, ch.ID, ev.Event.ChannelID)
		}
	})

	t.Run("a ringing call is rejected", func(t *testing.T) {
		ctx := t.Context()
		s := c.ChannelEvents(ctx, ch.ID, client.StreamOptions{})
		defer s.Close()
		require.Equal(t, client.KindReady, next(t, s).Kind)
		_, err := c.Simulate(ctx, ch.ID, client.SimCall, client.SimCallArgs{From: "15550102030", Video: true})
		require.NoError(t, err)
		ev := nextOfType(t, s, "call.received")
		var call struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Video  bool   `json:"video"`
		}
		require.NoError(t, ev.Event.DataInto(&call))
		require.Equal(t, "offer", call.Status)
		require.True(t, call.Video)
		rej, err := c.RejectCall(ctx, ch.ID, call.ID, client.CallRejectRequest{})
		require.NoError(t, err)
		require.Equal(t, call.ID, rej.ID)
		require.Equal(t, "api", rej.By)
	})

	t.Run("admin webhooks: failing deliveries, replay, update, rotate", func(t *testing.T) {
		ctx := t.Context()
		var mu sync.Mutex
		status := http.StatusInternalServerError
		hits := 0
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			hits++
			w.WriteHeader(status)
		}))
		defer rcv.Close()
		wh, err := admin.CreateAdminWebhook(ctx, client.CreateWebhookRequest{URL: rcv.URL, Events: []string{"message.received"}, MaxInFlight: ptr(1)})
		require.NoError(t, err)
		require.Nil(t, wh.ChannelID, "an admin-level endpoint")
		require.Equal(t, 1, wh.MaxInFlight)
		_, err = c.Simulate(ctx, ch.ID, client.SimInbound, map[string]any{"from": "15550102030", "text": "to admin"})
		require.NoError(t, err)
		var failed client.Delivery
		testenv.Eventually(t, 10*time.Second, func() bool {
			p, err := admin.ListAdminWebhookDeliveries(ctx, wh.ID, client.DeliveryParams{Status: client.DeliveryFailed})
			require.NoError(t, err)
			if len(p.Data) == 0 {
				return false
			}
			failed = p.Data[0]
			return true
		}, "a failed delivery")
		d, err := admin.GetAdminWebhookDelivery(ctx, wh.ID, failed.ID)
		require.NoError(t, err)
		require.Equal(t, http.StatusInternalServerError, d.Attempts[0].StatusCode)

		mu.Lock()
		status = http.StatusNoContent
		mu.Unlock()
		rep, err := admin.ReplayAdminWebhook(ctx, wh.ID, client.ReplayRequest{EventID: failed.EventID})
		require.NoError(t, err)
		require.Equal(t, 1, rep.Replayed)
		testenv.Eventually(t, 10*time.Second, func() bool {
			d, err = admin.GetAdminWebhookDelivery(ctx, wh.ID, failed.ID)
			require.NoError(t, err)
			return d.Status == client.DeliveryDelivered
		}, "the replayed delivery delivered (is %s)", d.Status)
		_, err = admin.ReplayAdminWebhook(ctx, wh.ID, client.ReplayRequest{EventID: "evt_00000000000000000000000000"})
		require.True(t, client.IsCode(err, "delivery_not_found"), "%v", err)

		dead, err := admin.ListDeadLetters(ctx, client.DeliveryParams{EndpointID: wh.ID})
		require.NoError(t, err)
		require.Empty(t, dead.Data)
		dead, err = c.ListChannelDeadLetters(ctx, ch.ID, client.DeliveryParams{})
		require.NoError(t, err)
		require.Empty(t, dead.Data)

		off := false
		up, err := admin.UpdateAdminWebhook(ctx, wh.ID, client.UpdateWebhookRequest{Enabled: &off, DefaultMaxInFlight: true})
		require.NoError(t, err)
		require.False(t, up.Enabled)
		require.Equal(t, 4, up.MaxInFlight, "back to the dispatcher's default")
		_, err = admin.ReplayAdminWebhook(ctx, wh.ID, client.ReplayRequest{Since: time.Now().Add(-time.Hour)})
		require.True(t, client.IsCode(err, "webhook_disabled"), "%v", err)
		rot, err := admin.RotateAdminWebhookSecret(ctx, wh.ID, client.RotateWebhookRequest{GracePeriod: "0s"})
		require.NoError(t, err)
		require.NotEqual(t, wh.Secret, rot.Secret)
		list, err := admin.ListAdminWebhooks(ctx)
		require.NoError(t, err)
		require.Len(t, list.Data, 1)
		got, err := admin.GetAdminWebhook(ctx, wh.ID)
		require.NoError(t, err)
		require.False(t, got.Enabled)
		require.NoError(t, admin.DeleteAdminWebhook(ctx, wh.ID))

		// The channel-level routes of the same kind.
		cw, err := c.CreateChannelWebhook(ctx, ch.ID, client.CreateWebhookRequest{URL: rcv.URL})
		require.NoError(t, err)
		cws, err := c.ListChannelWebhooks(ctx, ch.ID)
		require.NoError(t, err)
		require.Len(t, cws.Data, 1)
		desc := "orders"
		cu, err := c.UpdateChannelWebhook(ctx, ch.ID, cw.ID, client.UpdateWebhookRequest{Description: &desc})
		require.NoError(t, err)
		require.Equal(t, desc, cu.Description)
		rr, err := c.ReplayChannelWebhook(ctx, ch.ID, cw.ID, client.ReplayRequest{Since: time.Now().Add(-time.Hour), Status: client.DeliveryDead})
		require.NoError(t, err)
		require.Zero(t, rr.Replayed)
		_, err = c.GetChannelWebhookDelivery(ctx, ch.ID, cw.ID, "dlv_00000000000000000000000000")
		require.True(t, client.IsCode(err, "delivery_not_found"), "%v", err)
		require.NoError(t, c.DeleteChannelWebhook(ctx, ch.ID, cw.ID))
	})

	t.Run("lifecycle and bulk", func(t *testing.T) {
		ctx := t.Context()
		other, err := admin.CreateChannel(ctx, client.CreateChannelRequest{Name: "bulk", Settings: &client.Settings{SendRate: "30/m"}})
		require.NoError(t, err)
		rate := "10/m"
		up, err := admin.UpdateChannel(ctx, other.ID, client.UpdateChannelRequest{Name: "bulk 2", Settings: &client.SettingsPatch{SendRate: &rate}})
		require.NoError(t, err)
		require.Equal(t, "bulk 2", up.Name)
		require.Equal(t, "10/m", up.Settings.SendRate)
		up, err = admin.UpdateChannel(ctx, other.ID, client.UpdateChannelRequest{Settings: &client.SettingsPatch{Remove: []string{"send_rate"}}})
		require.NoError(t, err)
		require.Empty(t, up.Settings.SendRate)
		res, err := admin.BulkLifecycle(ctx, client.BulkRequest{Action: client.ActionStop, IDs: []string{other.ID, "ch_00000000000000000000000000"}})
		require.NoError(t, err)
		require.Len(t, res.Results, 2)
		byID := map[string]string{}
		for _, r := range res.Results {
			byID[r.ID] = r.Status
		}
		require.Equal(t, "accepted", byID[other.ID])
		require.Equal(t, "not_found", byID["ch_00000000000000000000000000"])
		for _, step := range []func(context.Context, string, ...client.CallOption) (*client.CommandAccepted, error){
			admin.StartChannel, admin.RestartChannel, admin.StopChannel, admin.LogoutChannel,
		} {
			acc, err := step(ctx, other.ID)
			require.NoError(t, err)
			require.Equal(t, other.ID, acc.ID)
		}
		del, err := admin.DeleteChannel(ctx, other.ID)
		require.NoError(t, err)
		require.Equal(t, "delete", del.Action)
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func errorsAs(err error) (*client.Error, bool) {
	e, ok := err.(*client.Error)
	return e, ok
}

func errorsAsCommand(err error) (*client.CommandFailedError, bool) {
	e, ok := err.(*client.CommandFailedError)
	return e, ok
}

// next reads the next stream event, failing the test after 15 s.
func next(t *testing.T, s *client.Stream) client.StreamEvent {
	t.Helper()
	type res struct {
		ev  client.StreamEvent
		err error
	}
	c := make(chan res, 1)
	go func() { ev, err := s.Next(); c <- res{ev, err} }()
	select {
	case r := <-c:
		require.NoError(t, r.err)
		return r.ev
	case <-time.After(15 * time.Second):
		_ = s.Close()
		t.Fatal("no stream event within 15 s")
		return client.StreamEvent{}
	}
}

// nextOfType skips events until one of type typ.
func nextOfType(t *testing.T, s *client.Stream, typ string) client.StreamEvent {
	t.Helper()
	for {
		ev := next(t, s)
		if ev.Kind == client.KindEvent && ev.Event.Type == typ {
			return ev
		}
	}
}

func receive[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("nothing received within 20 s")
		var zero T
		return zero
	}
}

func ptr[T any](v T) *T { return &v }
