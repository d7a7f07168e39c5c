package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
)

type sendAnswer struct {
	code     int
	id       string
	replayed bool
	errCode  string
}

// post is safe to call from many goroutines (it reports instead of failing).
func post(base, token, path string, body []byte, key string) (sendAnswer, error) {
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
	if err != nil {
		return sendAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sendAnswer{}, err
	}
	defer resp.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return sendAnswer{code: resp.StatusCode, id: out.ID, replayed: resp.Header.Get("Idempotent-Replayed") == "true", errCode: out.Error.Code}, nil
}

// Sends arriving together share a commit in the accept path. Whatever
// batch a request lands in, an Idempotency-Key stores one message: two
// concurrent sends with one key get the same id, one of them a replay, and
// a third with another body is refused. Every message is then sent once.
func TestConcurrentSendsAreBatchedAndStayIdempotent(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	admin := client{t: t, base: g.URL(), token: g.AdminToken()}
	code, ch := admin.do("POST", "/v1/channels", map[string]any{"name": "burst", "settings": map[string]any{"send_rate": "0", "warmup_days": 0}})
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id, token := ch["id"].(string), ch["token"].(string)
	path := "/v1/channels/" + id + "/messages"

	const keys, unkeyed = 60, 40
	type result struct {
		key string
		a   sendAnswer
		err error
	}
	results := make(chan result, 2*keys+unkeyed)
	var wg sync.WaitGroup
	for i := range keys {
		key := fmt.Sprintf("order-%d", i)
		body := fmt.Appendf(nil, `{"to":"1555010%04d","type":"text","text":"burst %d"}`, i+1, i) // a number ending in 0000 is not on WhatsApp
		for range 2 {
			wg.Go(func() {
				a, err := post(g.URL(), token, path, body, key)
				results <- result{key, a, err}
			})
		}
	}
	for i := range unkeyed {
		wg.Go(func() {
			a, err := post(g.URL(), token, path, fmt.Appendf(nil, `{"to":"15550200%03d","type":"text","text":"no key %d"}`, i+1, i), "")
			results <- result{"", a, err}
		})
	}
	wg.Wait()
	close(results)

	byKey := map[string][]sendAnswer{}
	unkeyedIDs := map[string]bool{}
	for r := range results {
		require.NoError(t, r.err)
		require.Equal(t, http.StatusAccepted, r.a.code, "key %q: %+v", r.key, r.a)
		if r.key == "" {
			require.False(t, r.a.replayed)
			unkeyedIDs[r.a.id] = true
			continue
		}
		byKey[r.key] = append(byKey[r.key], r.a)
	}
	require.Len(t, unkeyedIDs, unkeyed, "every send without a key is a message of its own")
	ids := map[string]bool{}
	for key, as := range byKey {
		require.Len(t, as, 2, key)
		require.Equal(t, as[0].id, as[1].id, "both sends of %s answer the same message", key)
		require.True(t, as[0].replayed != as[1].replayed, "exactly one send of %s is a replay: %+v", key, as)
		ids[as[0].id] = true
	}
	require.Len(t, ids, keys)
	require.Equal(t, keys+unkeyed, messageCount(t, g), "one row per key and per unkeyed send")

	// A key reused with another request is refused, whatever was batched.
	a, err := post(g.URL(), token, path, []byte(`{"to":"15550100000","type":"text","text":"something else"}`), "order-0")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, a.code)
	require.Equal(t, "idempotency_key_reused", a.errCode)

	// Pair the channel: the whole queue is sent, each message once.
	code, _ = admin.do("POST", "/v1/channels/"+id+"/start", nil)
	require.Equal(t, http.StatusAccepted, code)
	admin.waitState(id, "qr_pending")
	code, _ = admin.do("POST", "/v1/sim/channels/"+id+"/scan", map[string]any{})
	require.Equal(t, http.StatusAccepted, code)
	for msgID := range ids {
		unkeyedIDs[msgID] = true
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		var n int
		require.NoError(t, g.Deps.Store.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM messages WHERE channel_id = $1 AND sent_at IS NOT NULL`, id).Scan(&n))
		return n == keys+unkeyed
	}, "every queued message to be sent")
	for msgID := range unkeyedIDs {
		n, err := sim.Deliveries(context.Background(), g.Deps.Redis, g.Deps.Keys, msgID)
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "message %s delivered once", msgID)
	}
}

// The channel token check and the send route read a cache of channel
// rows; a deletion through the API must stop the token at once.
func TestDeletedChannelStopsTakingSendsAtOnce(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	admin := client{t: t, base: g.URL(), token: g.AdminToken()}
	code, ch := admin.do("POST", "/v1/channels", map[string]any{"name": "short-lived"})
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id, token := ch["id"].(string), ch["token"].(string)
	path := "/v1/channels/" + id + "/messages"
	send := []byte(`{"to":"15550102030","type":"text","text":"hi"}`)

	a, err := post(g.URL(), token, path, send, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, a.code, "%+v", a)

	// Settings changed through the API apply to the next send at once.
	code, _ = admin.do("PATCH", "/v1/channels/"+id, map[string]any{"settings": map[string]any{"max_queue": 1}})
	require.Equal(t, http.StatusOK, code)
	a, err = post(g.URL(), token, path, send, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, a.code, "%+v", a)

	code, _ = admin.do("DELETE", "/v1/channels/"+id, nil)
	require.Equal(t, http.StatusAccepted, code)
	a, err = post(g.URL(), token, path, send, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, a.code, "a deleted channel's token: %+v", a)
	a, err = post(g.URL(), g.AdminToken(), path, send, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, a.code, "a deleted channel for the admin: %+v", a)
	require.Equal(t, "channel_not_found", a.errCode)
}
