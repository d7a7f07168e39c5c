package event_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wagate/wagate/pkg/event"
)

// messageStatus has the shape of the worker's message.sent data.
type messageStatus struct {
	MessageID string    `json:"message_id"`
	WAID      string    `json:"wa_id,omitempty"`
	Chat      string    `json:"chat"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

var status = messageStatus{
	MessageID: "msg_01jbench0000000000000000000", WAID: "3EB0C431C26A1916E07A", Chat: "15550102030@s.whatsapp.net",
	Type: "text", Status: "sent", At: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
}

// BenchmarkEventNew is what the worker does for every event: a fresh id
// and the data encoded into the envelope.
func BenchmarkEventNew(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.New(event.MessageSent, "ch_01jbench0000000000000000000", 3, now, status); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventEncode is the envelope's encoding as published to WA_EVT.
func BenchmarkEventEncode(b *testing.B) {
	ev, err := event.New(event.MessageSent, "ch_01jbench0000000000000000000", 3, time.Now(), status)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		raw, err := json.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		n = len(raw)
	}
	b.SetBytes(int64(n))
}

// BenchmarkEventDecode is what every reader of WA_EVT does first (webhook
// fan-out, relay, the bench's own watcher).
func BenchmarkEventDecode(b *testing.B) {
	ev, err := event.New(event.MessageSent, "ch_01jbench0000000000000000000", 3, time.Now(), status)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var got event.Envelope
		if err := json.Unmarshal(raw, &got); err != nil {
			b.Fatal(err)
		}
	}
}
