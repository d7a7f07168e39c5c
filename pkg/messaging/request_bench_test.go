package messaging_test

import (
	"testing"

	"github.com/wagate/wagate/pkg/messaging"
)

// BenchmarkParse is the validation of a send request, done by the API for
// every POST …/messages and by the worker for every send published to NATS.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"text", `{"to":"+1 (555) 010-2030","type":"text","text":"hello from the wagate benchmark"}`},
		{"image_url", `{"to":"15550102030","type":"image","media":{"url":"https://example.com/cat.jpg","caption":"a cat"}}`},
		{"poll", `{"to":"120363025246125486@g.us","type":"poll","poll":{"name":"lunch?","options":["pizza","sushi","salad"]}}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := messaging.Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNormalizeRecipient turns a phone number as users write it into a JID.
func BenchmarkNormalizeRecipient(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := messaging.NormalizeRecipient("+1 (555) 010-2030"); !ok {
			b.Fatal("refused")
		}
	}
}
