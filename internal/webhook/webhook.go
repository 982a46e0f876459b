// Package webhook delivers the event log to partners' HTTP endpoints: each
// endpoint is a durable subscriber of the log (internal/live), resumed from
// its own cursor, whose transport is a signed HTTP POST (Standard Webhooks).
// Deliveries are at least once and in order per endpoint, across instances:
// one instance at a time works on an endpoint, under a lease in the main
// database.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/dbroute"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/netguard"
	"github.com/shipmentapp/shipmentapp/internal/secretbox"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// Renderer runs subscription documents: the API's executor, with its limits
// and trusted-documents rules (internal/app builds it).
type Renderer interface {
	// Check validates document and variables for an endpoint owned by v:
	// a subscription whose one root field follows the event log
	// (shipmentEvents without after, or trackingEventAdded). Its errors are
	// the API's (apperr codes).
	Check(ctx context.Context, v *viewer.Viewer, document string, variables map[string]any) error
	// Render runs document as v for ev alone: the GraphQL result, or nil
	// when the event is not the endpoint's (its filter, or v's scope). A
	// document that no longer runs is a *DocumentError.
	Render(ctx context.Context, v *viewer.Viewer, document string, variables map[string]any, ev *live.Event) (*Result, error)
}

// Result is a document's GraphQL result for one event: a delivery's data
// and errors.
type Result struct {
	Data   json.RawMessage
	Errors json.RawMessage
}

// DocumentError is an endpoint's document that no longer runs (the schema
// or the trusted documents changed under it): the endpoint is disabled
// with the error as its reason, since no retry would help.
type DocumentError struct{ Err error }

func (e *DocumentError) Error() string {
	return "the endpoint's document no longer runs: " + e.Err.Error()
}

func (e *DocumentError) Unwrap() error { return e.Err }

// DefaultDocument is the subscription of an endpoint created without one:
// every event its owner may see, with the shipment it belongs to.
const DefaultDocument = `subscription WebhookDefault {
  shipmentEvents {
    cursor
    node {
      id
      status
      occurredAt
      description
      source
      location { city countryCode }
      shipment { id reference status carrier trackingNumber }
    }
  }
}`

// Defaults of Options.
const (
	DefaultTimeout        = 15 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultDisableAfter   = 5 * 24 * time.Hour
	DefaultMaxEndpoints   = 10
	DefaultLease          = time.Minute
	DefaultRetention      = 30 * 24 * time.Hour
	DefaultWorkers        = 4
	// SecretOverlap is how long a rotated-out secret keeps signing beside
	// the new one.
	SecretOverlap = 24 * time.Hour
)

// DefaultSchedule is the Standard Webhooks specification's recommended
// retry schedule: the delays before each attempt (the first at once).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Options configure a Service.
type Options struct {
	Client   *ent.Client
	Hub      *live.Hub
	Renderer Renderer
	Keys     *auth.Keys
	// Box seals the signing secrets; nil: webhooks are not configured, and
	// every call answers UNAVAILABLE.
	Box *secretbox.Box
	// Policy is where deliveries may go (netguard); Client carries them.
	Policy netguard.Policy
	// HTTPClient overrides the client built from Policy (tests).
	HTTPClient     *http.Client
	Timeout        time.Duration
	ConnectTimeout time.Duration
	// Schedule is the delay before each attempt; a delivery fails for
	// good after the last.
	Schedule []time.Duration
	// DisableAfter disables an endpoint failing continuously this long.
	DisableAfter time.Duration
	// MaxEndpoints is the number of endpoints one owner may have.
	MaxEndpoints int
	// Workers is the number of endpoints this instance works on at once
	// (1 on SQLite: one writer).
	Workers int
	// Lease is how long an instance keeps an endpoint without renewing:
	// an instance killed mid-delivery is taken over after it.
	Lease time.Duration
	// Retention is how long finished deliveries stay in the log.
	Retention time.Duration
	// Instance names this instance in leases and attempts.
	Instance string
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Now is the clock (tests).
	Now func() time.Time
}

// Service manages endpoints and delivers to them.
type Service struct {
	opts    Options
	client  *ent.Client
	http    *http.Client
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
}

// ErrNotConfigured is the answer of every call when no secret key is
// configured (WEBHOOK_SECRET_KEYS, required outside development).
var ErrNotConfigured = apperr.New(apperr.Unavailable, "webhooks are not configured on this server (WEBHOOK_SECRET_KEYS)")

// New returns a Service; Run delivers.
func New(o Options) (*Service, error) {
	if o.Client == nil || o.Hub == nil || o.Renderer == nil || o.Keys == nil {
		return nil, errors.New("webhook: Client, Hub, Renderer and Keys are required")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = DefaultDisableAfter
	}
	if o.MaxEndpoints <= 0 {
		o.MaxEndpoints = DefaultMaxEndpoints
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Lease < o.Timeout+5*time.Second {
		return nil, fmt.Errorf("webhook: the lease (%s) must outlast an attempt (timeout %s) by 5 s at least", o.Lease, o.Timeout)
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Instance == "" {
		o.Instance = "shipmentapp"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{opts: o, client: o.Client, log: o.Logger, now: func() time.Time { return o.Now().UTC().Truncate(time.Microsecond) }}
	s.http = o.HTTPClient
	if s.http == nil {
		s.http = o.Policy.Client(netguard.ClientOptions{ConnectTimeout: o.ConnectTimeout, Timeout: o.Timeout})
	}
	s.metrics = newMetrics(o.Registry)
	return s, nil
}

// Configured reports whether webhooks can be used (a secret key is set).
func (s *Service) Configured() bool { return s.opts.Box != nil }

// system is the context of the Service's own reads and writes: on the
// primary, past the privacy rules (the Service checks who may do what).
func system(ctx context.Context) context.Context {
	return privacy.DecisionContext(dbroute.UsePrimary(ctx), privacy.Allow)
}
