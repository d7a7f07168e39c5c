package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is the webhook endpoint of the fleet: it verifies each
// delivery's Standard Webhooks signature and records the first arrival of
// every webhook id. While failing, it answers 500 to everything.
type receiver struct {
	srv *http.Server
	url string

	mu      sync.Mutex
	wh      *standardwebhooks.Webhook
	failing bool
	seen    map[string]arrival // by webhook id (the event id)
	total   int                // requests answered 2xx
	repeats int                // deliveries of a webhook id already received
	badSig  int
	refused int // requests answered 500 while failing
}

// arrival is one event as the receiver got it.
type arrival struct {
	at        time.Time
	typ       string
	messageID string
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{url: "http://" + ln.Addr().String() + "/hook", seen: map[string]arrival{}}
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

func (rc *receiver) close() { _ = rc.srv.Close() }

// setSecret is the endpoint's whsec_… secret, known once it is registered.
func (rc *receiver) setSecret(secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	rc.mu.Lock()
	rc.wh = wh
	rc.mu.Unlock()
	return nil
}

func (rc *receiver) setFailing(v bool) {
	rc.mu.Lock()
	rc.failing = v
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failing || rc.wh == nil {
		rc.refused++
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	if err := rc.wh.Verify(body, r.Header); err != nil {
		rc.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			MessageID string `json:"message_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	id := r.Header.Get("webhook-id")
	rc.total++
	if _, ok := rc.seen[id]; ok {
		rc.repeats++
	} else {
		rc.seen[id] = arrival{at: at, typ: ev.Type, messageID: ev.Data.MessageID}
	}
	w.WriteHeader(http.StatusNoContent)
}

// arrivalOf returns when the webhook of event id first arrived.
func (rc *receiver) arrivalOf(id string) (arrival, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	a, ok := rc.seen[id]
	return a, ok
}

// stats returns the counters.
func (rc *receiver) stats() (total, repeats, badSig, refused int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.total, rc.repeats, rc.badSig, rc.refused
}
