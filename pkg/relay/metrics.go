package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label values.
const (
	transportSSE = "sse"
	transportWS  = "ws"
	scopeChannel = "channel"
	scopeAdmin   = "admin"
)

var (
	metricClients = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wagate_relay_clients",
		Help: "Browser clients connected to the relay, by transport (sse, ws) and scope (channel, admin).",
	}, []string{"transport", "scope"})
	metricEventsSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_relay_events_sent_total",
		Help: "Events written to browser clients (live and replayed), by transport.",
	}, []string{"transport"})
	metricSlowDropped = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_relay_slow_clients_dropped_total",
		Help: "Clients cut off because their buffer was full or a write timed out.",
	})
	metricLag = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "wagate_relay_lag_seconds",
		Help:    "Time from an event's storage in WA_EVT to its fan-out by the relay.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	metricPending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_relay_pending_events",
		Help: "Events in WA_EVT the relay's subscription has not fanned out yet.",
	})
	metricResumes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_relay_resumes_total",
		Help: "Connections that sent a last event id, by result (replayed, current, reset).",
	}, []string{"result"})
	metricReplayed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_relay_replayed_events_total",
		Help: "Events read back from WA_EVT for resuming clients.",
	})
)
