package webhook_test

import (
	"testing"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
)

// BenchmarkDelivery measures events per second from WA_EVT to a fast
// local receiver, through fan-out, WA_WEBHOOK, signing and the delivery
// log, with one channel endpoint and one admin-level endpoint.
//
//	go test -run '^$' -bench Delivery -benchtime 2000x ./pkg/webhook
func BenchmarkDelivery(b *testing.B) {
	bb := setup(b, setupOpts{allowPrivate: true})
	ch, _ := bb.channel(b)
	rc := newReceiver(b, nil)
	admin := newReceiver(b, nil)
	bb.endpoint(b, ch, map[string]any{"url": rc.srv.URL})
	bb.endpoint(b, "", map[string]any{"url": admin.srv.URL})
	cfg := bb.fastConfig()
	cfg.EndpointConcurrency = 16
	bb.start(b, cfg)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		bb.publish(b, ch, event.MessageReceived)
	}
	testenv.Eventually(b, 5*time.Minute, func() bool { return rc.count() >= b.N && admin.count() >= b.N }, "all delivered")
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "deliveries/s")
}
