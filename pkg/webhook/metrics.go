package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcomes counted by wagate_webhook_deliveries_total.
const (
	// metricDelivered: the receiver answered 2xx.
	metricDelivered = "delivered"
	// metricRetry: the attempt failed; the delivery waits for the schedule.
	metricRetry = "retry"
	// metricDead: the schedule is exhausted, or the endpoint is disabled.
	metricDead = "dead"
	// metricGone: the receiver answered 410 and the endpoint was disabled.
	metricGone = "gone"
	// metricDeferred: not attempted now (endpoint busy or backing off);
	// recorded in Postgres for the claimer.
	metricDeferred = "deferred"
	// metricDropped: the endpoint was deleted before delivery.
	metricDropped = "dropped"
)

var (
	metricDeliveries = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_webhook_deliveries_total",
		Help: "Webhook delivery decisions by outcome: delivered, retry, dead, gone, deferred, dropped.",
	}, []string{"outcome"})
	metricAttemptSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wagate_webhook_attempt_duration_seconds",
		Help:    "Duration of webhook attempts (short retries included) by result: success or failure.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"result"})
	metricQueueDepth = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "wagate_webhook_queue_depth",
		Help: "Deliveries waiting in Postgres (pending, failed awaiting retry, or being retried) per endpoint.",
	}, []string{"endpoint_id"})
	metricFanoutLag = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_webhook_fanout_lag_seconds",
		Help: "Age of the last event fanned out to webhook deliveries, from its storage in WA_EVT.",
	})
	metricFanoutPending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_webhook_fanout_pending_events",
		Help: "Events in WA_EVT not yet fanned out, as last reported by the consumer.",
	})
	metricFanoutDeliveries = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_webhook_fanout_deliveries_total",
		Help: "Delivery messages published to WA_WEBHOOK by the fan-out.",
	})
	metricDisabled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_webhook_endpoints_disabled_total",
		Help: "Endpoints disabled by the dispatcher, by reason: gone (410) or failing.",
	}, []string{"reason"})
)
