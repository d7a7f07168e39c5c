package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/pkg/webhook"
)

// payload is a typical message.sent webhook body (about 300 bytes).
var payload = []byte(`{"id":"evt_01jbench0000000000000000000","type":"message.sent","channel_id":"ch_01jbench0000000000000000000",` +
	`"created_at":"2025-01-02T03:04:05.000000006Z","epoch":3,"data":{"message_id":"msg_01jbench0000000000000000000",` +
	`"wa_id":"3EB0C431C26A1916E07A","chat":"15550102030@s.whatsapp.net","type":"text","status":"sent","at":"2025-01-02T03:04:05Z"},"seq":1234}`)

// BenchmarkSign is the signature of one attempt with one secret.
func BenchmarkSign(b *testing.B) {
	secrets := []string{webhook.NewSecret()}
	ts := time.Now()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.Sign(secrets, "evt_01jbench0000000000000000000", ts, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRotating signs with two secrets, as during a rotation's
// grace period.
func BenchmarkSignRotating(b *testing.B) {
	secrets := []string{webhook.NewSecret(), webhook.NewSecret()}
	ts := time.Now()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		sig, err := webhook.Sign(secrets, "evt_01jbench0000000000000000000", ts, payload)
		if err != nil || strings.Count(sig, " ") != 1 {
			b.Fatal(sig, err)
		}
	}
}
