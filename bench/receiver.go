package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// receiver is a local webhook receiver: it answers 200 at once and records
// when each event arrived, counting repeats by webhook-id.
type receiver struct {
	srv *http.Server
	url string

	mu      sync.Mutex
	first   map[string]time.Time // by endpoint path and event id
	byMsg   map[string]time.Time // message.sent by message id
	repeats int
	total   int
	notify  chan struct{}
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rc := &receiver{url: "http://" + ln.Addr().String() + "/hook", first: map[string]time.Time{}, byMsg: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rc.srv.Serve(ln) }()
	return rc, nil
}

func (rc *receiver) close() { _ = rc.srv.Close() }

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	w.WriteHeader(http.StatusOK)
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			MessageID string `json:"message_id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	// Keyed by endpoint (path) and event: one event goes to every endpoint.
	id := r.URL.Path + " " + r.Header.Get("webhook-id")
	rc.mu.Lock()
	rc.total++
	if _, seen := rc.first[id]; seen {
		rc.repeats++
	} else {
		rc.first[id] = at
		if ev.Type == "message.sent" && ev.Data.MessageID != "" {
			rc.byMsg[ev.Data.MessageID] = at
		}
	}
	rc.mu.Unlock()
	select {
	case rc.notify <- struct{}{}:
	default:
	}
}

// counts returns distinct events received, all requests, and repeats.
func (rc *receiver) counts() (distinct, total, repeats int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.first), rc.total, rc.repeats
}

func (rc *receiver) sentAt(msgID string) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t, ok := rc.byMsg[msgID]
	return t, ok
}

// arrivals returns the arrival times of every distinct event.
func (rc *receiver) arrivals() []time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]time.Time, 0, len(rc.first))
	for _, t := range rc.first {
		out = append(out, t)
	}
	return out
}
