package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/ent/webhookattempt"
	"github.com/shipmentapp/shipmentapp/ent/webhookdelivery"
	"github.com/shipmentapp/shipmentapp/ent/webhookendpoint"
)

type metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	latency    prometheus.Histogram
	oldest     *prometheus.GaugeVec
	disabled   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_webhook_deliveries_total",
			Help: "Webhook deliveries finished by this instance, by result (SUCCEEDED, FAILED, CANCELLED).",
		}, []string{"result"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shipmentapp_webhook_attempts_total",
			Help: "Webhook HTTP attempts, by result (success, http_4xx, http_5xx, error).",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shipmentapp_webhook_attempt_duration_seconds",
			Help:    "Duration of webhook HTTP attempts, from connect to the end of the answer read.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shipmentapp_webhook_oldest_pending_seconds",
			Help: "Age of the oldest event an enabled endpoint has not received yet (queued or still in the log), by endpoint.",
		}, []string{"endpoint"}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shipmentapp_webhook_endpoints_disabled_total",
			Help: "Webhook endpoints this instance disabled (failing continuously for WEBHOOK_DISABLE_AFTER, or their key revoked).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.attempts, m.latency, m.oldest, m.disabled)
	}
	return m
}

func (m *metrics) delivered(result string) { m.deliveries.WithLabelValues(result).Inc() }

func (m *metrics) disabledEndpoint() { m.disabled.Inc() }

func (m *metrics) attempt(o outcome, d time.Duration) {
	m.latency.Observe(d.Seconds())
	r := "error"
	switch {
	case o.ok():
		r = "success"
	case o.status != nil && *o.status >= 500:
		r = "http_5xx"
	case o.status != nil:
		r = "http_4xx"
	}
	m.attempts.WithLabelValues(r).Inc()
}

// janitor refreshes the backlog gauge and prunes the delivery log, every
// 15 seconds, until ctx ends.
func (s *Service) janitor(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		s.gauge(ctx)
		s.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// gauge sets the age of the oldest event each enabled endpoint has not
// received: its oldest queued delivery's, else the first event past its
// cursor's.
func (s *Service) gauge(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sys := system(ctx)
	eps, err := s.client.WebhookEndpoint.Query().Where(webhookendpoint.StateEQ(Enabled)).All(sys)
	if err != nil {
		return
	}
	now := s.now()
	s.metrics.oldest.Reset()
	for _, ep := range eps {
		age := time.Duration(0)
		d, err := s.head(sys, ep.ID)
		if err == nil {
			age = now.Sub(d.CreatedAt)
		} else if ep.Cursor < s.opts.Hub.Position() {
			if ev, err := s.client.TrackingEvent.Query().Where(trackingevent.SeqGT(ep.Cursor)).
				Order(ent.Asc(trackingevent.FieldSeq)).First(sys); err == nil {
				age = now.Sub(ev.CreatedAt)
			}
		}
		s.metrics.oldest.WithLabelValues(strconv.Itoa(ep.ID)).Set(max(age, 0).Seconds())
	}
}

// prune deletes the finished deliveries older than the retention.
func (s *Service) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sys := system(ctx)
	ids, err := s.client.WebhookDelivery.Query().
		Where(webhookdelivery.FinishedAtLT(s.now().Add(-s.opts.Retention))).Limit(1000).IDs(sys)
	if err != nil || len(ids) == 0 {
		return
	}
	_ = s.tx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.WebhookAttempt.Delete().Where(webhookattempt.DeliveryIDIn(ids...)).Exec(sys); err != nil {
			return err
		}
		_, err := tx.WebhookDelivery.Delete().Where(webhookdelivery.IDIn(ids...)).Exec(sys)
		return err
	})
}

// newMessageID is a fresh webhook-id for a message that is not an event
// of the log (a test).
func newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "msg_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// jsonEnvelope is a delivery body with data as given.
func jsonEnvelope(typ, id string, ts time.Time, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Type: typ, ID: id, Timestamp: ts.UTC(), Data: raw})
}
