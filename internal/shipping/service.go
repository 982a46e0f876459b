// Package shipping owns the rules of shipments: validation of what clients
// send, reference generation, optimistic concurrency, and the one state machine
// that tracking events move a shipment through, applied in one transaction.
package shipping

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// CustomerLookup finds a Dolibarr customer by rowid; a missing customer is an
// error for which ent.IsNotFound is true.
type CustomerLookup interface {
	Customer(ctx context.Context, id int) (*ent.Customer, error)
}

// Service changes shipments. It is safe for concurrent use.
type Service struct {
	client    *ent.Client
	customers CustomerLookup
	now       func() time.Time
	notifier  Notifier
}

// Change is a committed change of a shipment.
type Change struct {
	ShipmentID int
	// Version is the shipment's version after the change.
	Version int
	// EventSeq is the seq of the tracking event the change added, if any.
	EventSeq int64
}

// Notifier learns of every change after its transaction committed
// (internal/live tells the subscribers of every instance).
type Notifier interface {
	Committed(ctx context.Context, c Change)
}

// WithNotifier makes the service report its committed changes to n.
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

func (s *Service) committed(ctx context.Context, c Change) {
	if s.notifier != nil {
		s.notifier.Committed(ctx, c)
	}
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (seeding and tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a Service writing through client and checking customers with customers.
func New(client *ent.Client, customers CustomerLookup, opts ...Option) *Service {
	s := &Service{client: client, customers: customers, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// authorize runs the shipments' write policy (ent/schema's privacy rules,
// the same that guard the write itself) before anything else: a viewer who
// may not write shipments (a PARTNER) is refused FORBIDDEN whatever it sends,
// and learns nothing from the checks of its input or from which shipments
// and customers exist. Tracking events follow the same rule.
func (s *Service) authorize(ctx context.Context) error {
	return shipment.Policy.EvalMutation(ctx, s.client.Shipment.Create().Mutation())
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// CreateInput is a new shipment.
type CreateInput struct {
	CustomerID          int
	Carrier             string
	ServiceLevel        string
	TrackingNumber      *string
	Origin              domain.Address
	Destination         domain.Address
	Parcels             []domain.Parcel
	EstimatedDeliveryAt *time.Time
	Reference           *string
}

// maxReferenceAttempts bounds the retries when a generated reference collides.
const maxReferenceAttempts = 5

// Create validates in, checks the customer in Dolibarr and inserts a DRAFT shipment.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.Shipment, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	in.Carrier = strings.TrimSpace(in.Carrier)
	serviceLevel := domain.TextOf(in.ServiceLevel)
	in.TrackingNumber = domain.Text(in.TrackingNumber)
	in.Reference = domain.Text(in.Reference)
	v := &validator{}
	v.carrier("input.carrier", in.Carrier)
	v.optMaxLen("input.serviceLevel", serviceLevel, 64)
	if in.TrackingNumber != nil {
		v.trackingNumber("input.trackingNumber", *in.TrackingNumber)
	}
	if in.Reference != nil {
		v.reference("input.reference", *in.Reference)
	}
	in.Origin = v.address("input.origin", in.Origin)
	in.Destination = v.address("input.destination", in.Destination)
	v.parcels("input.parcels", in.Parcels)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.checkCustomer(ctx, in.CustomerID); err != nil {
		return nil, err
	}
	actor := viewer.Actor(ctx)
	for attempt := 0; ; attempt++ {
		ref := in.Reference
		if ref == nil {
			generated, err := NewReference()
			if err != nil {
				return nil, fmt.Errorf("generate reference: %w", err)
			}
			ref = &generated
		}
		now := s.clock()
		sh, err := s.client.Shipment.Create().
			SetReference(*ref).
			SetCustomerID(in.CustomerID).
			SetStatus(domain.StatusDraft).
			SetCarrier(in.Carrier).
			SetNillableServiceLevel(serviceLevel).
			SetNillableTrackingNumber(in.TrackingNumber).
			SetOrigin(in.Origin).
			SetDestination(in.Destination).
			SetParcels(in.Parcels).
			SetNillableEstimatedDeliveryAt(utcPtr(in.EstimatedDeliveryAt)).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			SetCreatedBy(actor).
			SetUpdatedBy(actor).
			Save(ctx)
		if err == nil {
			return sh, nil
		}
		if ent.IsConstraintError(err) {
			conflict := constraintConflict(err, *ref, in.Carrier)
			if in.Reference == nil && isReferenceConflict(err) && attempt < maxReferenceAttempts {
				continue
			}
			return nil, conflict
		}
		return nil, fmt.Errorf("create shipment: %w", err)
	}
}

func (s *Service) checkCustomer(ctx context.Context, id int) error {
	c, err := s.customers.Customer(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return apperr.Invalid("input.customerId", "no customer with this ID in Dolibarr")
	case err != nil:
		return fmt.Errorf("load customer %d: %w", id, err)
	case c.Status != 1:
		return apperr.Invalid("input.customerId", "customer %q is closed in Dolibarr", c.Name)
	}
	return nil
}

// Optional is an input field that may be absent (Set false: leave as is),
// null (Set true, Value nil: clear) or a value.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// UpdateInput changes a shipment; nil and unset fields are left as they are.
type UpdateInput struct {
	Carrier             *string
	ServiceLevel        Optional[string]
	TrackingNumber      Optional[string]
	Origin              *domain.Address
	Destination         *domain.Address
	Parcels             []domain.Parcel
	EstimatedDeliveryAt Optional[time.Time]
}

func (in UpdateInput) empty() bool {
	return in.Carrier == nil && !in.ServiceLevel.Set && !in.TrackingNumber.Set && in.Origin == nil &&
		in.Destination == nil && in.Parcels == nil && !in.EstimatedDeliveryAt.Set
}

// Update applies in to shipment id if its version is still version; otherwise
// nothing is written and the error is CONFLICT.
func (s *Service) Update(ctx context.Context, id, version int, in UpdateInput) (*ent.Shipment, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	if in.empty() {
		return nil, apperr.Invalid("input", "input must change at least one field")
	}
	v := &validator{}
	upd := s.client.Shipment.Update().
		Where(shipment.ID(id), shipment.Version(version), shipment.StatusNotIn(finalStatuses()...)).
		AddVersion(1).
		SetUpdatedAt(s.clock()).
		SetUpdatedBy(viewer.Actor(ctx))
	if in.Carrier != nil {
		c := strings.TrimSpace(*in.Carrier)
		v.carrier("input.carrier", c)
		upd.SetCarrier(c)
	}
	if in.ServiceLevel.Set {
		if sl := domain.Text(in.ServiceLevel.Value); sl != nil {
			v.maxLen("input.serviceLevel", *sl, 64)
			upd.SetServiceLevel(*sl)
		} else {
			upd.ClearServiceLevel()
		}
	}
	if in.TrackingNumber.Set {
		if tn := domain.Text(in.TrackingNumber.Value); tn != nil {
			v.trackingNumber("input.trackingNumber", *tn)
			upd.SetTrackingNumber(*tn)
		} else {
			upd.ClearTrackingNumber()
		}
	}
	if in.Origin != nil {
		upd.SetOrigin(v.address("input.origin", *in.Origin))
	}
	if in.Destination != nil {
		upd.SetDestination(v.address("input.destination", *in.Destination))
	}
	if in.Parcels != nil {
		v.parcels("input.parcels", in.Parcels)
		upd.SetParcels(in.Parcels)
	}
	if in.EstimatedDeliveryAt.Set {
		if in.EstimatedDeliveryAt.Value != nil {
			upd.SetEstimatedDeliveryAt(in.EstimatedDeliveryAt.Value.UTC())
		} else {
			upd.ClearEstimatedDeliveryAt()
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	n, err := upd.Save(ctx)
	if ent.IsConstraintError(err) {
		carrier := ""
		if in.Carrier != nil {
			carrier = *in.Carrier
		}
		return nil, constraintConflict(err, "", carrier)
	}
	if err != nil {
		return nil, fmt.Errorf("update shipment %d: %w", id, err)
	}
	if n == 0 {
		return nil, s.whyNotUpdated(ctx, id, version)
	}
	s.committed(ctx, Change{ShipmentID: id, Version: version + 1})
	sh, err := s.client.Shipment.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reload shipment %d: %w", id, err)
	}
	return sh, nil
}

// whyNotUpdated explains a conditional update that matched no row.
func (s *Service) whyNotUpdated(ctx context.Context, id, version int) error {
	cur, err := s.client.Shipment.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return apperr.NotFoundf("shipment not found")
	case err != nil:
		return fmt.Errorf("load shipment %d: %w", id, err)
	case cur.Version != version:
		e := apperr.New(apperr.Conflict, "shipment was changed by someone else (version %d, you sent %d); reload it and retry", cur.Version, version)
		e.Extensions = map[string]any{"currentVersion": cur.Version}
		return e
	default:
		return apperr.New(apperr.Conflict, "shipment is %s and can no longer be changed", cur.Status)
	}
}

// EventInput is a new tracking event.
type EventInput struct {
	Status      domain.Status
	OccurredAt  time.Time
	Description string
	Location    *domain.Location
	Source      string
}

// maxEventAttempts bounds the retries when another event for the same
// shipment commits between our read and our write.
const maxEventAttempts = 3

// errRaced means the shipment's version moved during the transaction.
var errRaced = errors.New("shipment changed during the transaction")

// AddEvent appends a tracking event and moves the shipment to its status in
// the same transaction, if the state machine allows the move.
func (s *Service) AddEvent(ctx context.Context, shipmentID int, in EventInput) (*ent.TrackingEvent, error) {
	ev, _, err := s.transition(ctx, shipmentID, in, nil)
	return ev, err
}

// Cancel moves a shipment to CANCELLED with a tracking event saying why.
func (s *Service) Cancel(ctx context.Context, id int, reason *string) (*ent.Shipment, error) {
	// A blank reason is no reason: cancelReason stays absent (null).
	r := domain.Text(reason)
	v := &validator{}
	v.optMaxLen("reason", r, 500)
	if err := v.err(); err != nil {
		return nil, err
	}
	desc := "Shipment cancelled"
	if r != nil {
		desc += ": " + *r
	}
	_, sh, err := s.transition(ctx, id, EventInput{
		Status: domain.StatusCancelled, OccurredAt: s.clock(), Description: desc, Source: "system",
	}, r)
	return sh, err
}

func (s *Service) transition(ctx context.Context, id int, in EventInput, cancelReason *string) (*ent.TrackingEvent, *ent.Shipment, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, nil, err
	}
	in.Description = strings.TrimSpace(in.Description)
	if in.Source == "" {
		in.Source = "api"
	}
	v := &validator{}
	if !in.Status.Valid() {
		v.add("input.status", "unknown status %q", in.Status)
	} else if in.Status == domain.StatusDraft {
		v.add("input.status", "a tracking event cannot move a shipment back to DRAFT")
	}
	if in.OccurredAt.IsZero() {
		v.add("input.occurredAt", "occurredAt is required")
	} else if in.OccurredAt.After(s.clock().Add(maxClockSkew)) {
		v.add("input.occurredAt", "occurredAt is in the future")
	}
	v.maxLen("input.description", in.Description, 500)
	in.Location = v.location("input.location", in.Location)
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	in.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	for attempt := 1; ; attempt++ {
		ev, sh, err := s.transitionOnce(ctx, id, in, cancelReason)
		if errors.Is(err, errRaced) && attempt < maxEventAttempts {
			continue
		}
		if errors.Is(err, errRaced) {
			return nil, nil, apperr.New(apperr.Conflict, "shipment is changing concurrently; retry")
		}
		return ev, sh, err
	}
}

// maxClockSkew is how far in the future an event's time may be.
const maxClockSkew = 5 * time.Minute

func (s *Service) transitionOnce(ctx context.Context, id int, in EventInput, cancelReason *string) (_ *ent.TrackingEvent, _ *ent.Shipment, err error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Lock the shipment's row first, on every database alike (a no-op update
	// takes the row lock; SQLite transactions are already exclusive), so
	// concurrent events for one shipment queue up instead of failing.
	locked, err := tx.Shipment.Update().Where(shipment.ID(id)).AddVersion(0).Save(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("lock shipment %d: %w", id, err)
	}
	if locked == 0 {
		return nil, nil, apperr.NotFoundf("shipment not found")
	}
	sh, err := tx.Shipment.Get(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("load shipment %d: %w", id, err)
	}
	if !domain.CanTransition(sh.Status, in.Status) {
		e := apperr.New(apperr.InvalidTransition, "a %s shipment cannot move to %s", sh.Status, in.Status)
		allowed := make([]string, 0)
		for _, st := range domain.NextStatuses(sh.Status) {
			allowed = append(allowed, string(st))
		}
		e.Extensions = map[string]any{"from": string(sh.Status), "to": string(in.Status), "allowed": allowed}
		return nil, nil, e
	}
	actor := viewer.Actor(ctx)
	now := s.clock()
	// The row is locked, so the version cannot have moved; the condition
	// stays as a guard. The update precedes the event insert so the row lock
	// is always taken before InnoDB's foreign-key lock (no deadlock).
	upd := tx.Shipment.Update().
		Where(shipment.ID(id), shipment.Version(sh.Version)).
		SetStatus(in.Status).
		AddVersion(1).
		SetUpdatedAt(now).
		SetUpdatedBy(actor)
	if in.Status == domain.StatusDelivered {
		upd.SetDeliveredAt(in.OccurredAt)
	}
	if cancelReason != nil {
		upd.SetCancelReason(*cancelReason)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("update shipment %d status: %w", id, err)
	}
	if n == 0 {
		return nil, nil, errRaced
	}
	updated, err := tx.Shipment.Get(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("reload shipment %d: %w", id, err)
	}
	// The sequence comes last: its row stays locked until the commit, which
	// is what makes seq follow the commit order (see ent/schema/sequence.go).
	seq, err := NextSeq(ctx, tx.Client(), SeqTrackingEvents)
	if err != nil {
		return nil, nil, err
	}
	create := tx.TrackingEvent.Create().
		SetShipmentID(id).
		SetSeq(seq).
		SetStatus(in.Status).
		SetOccurredAt(in.OccurredAt).
		// No description is absent (null), not "".
		SetNillableDescription(domain.TextOf(in.Description)).
		SetSource(in.Source).
		SetCreatedAt(now).
		SetCreatedBy(actor)
	if in.Location != nil {
		create.SetLocation(in.Location)
	}
	ev, err := create.Save(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("insert tracking event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("commit tracking event: %w", err)
	}
	s.committed(ctx, Change{ShipmentID: id, Version: updated.Version, EventSeq: seq})
	ev.Edges.Shipment = updated
	return ev.Unwrap(), updated.Unwrap(), nil
}

func finalStatuses() []domain.Status {
	var out []domain.Status
	for _, s := range domain.Statuses {
		if s.Final() {
			out = append(out, s)
		}
	}
	return out
}

// referenceAlphabet is Crockford's base32: no I, L, O, U to misread.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReference returns a random human-readable reference such as SHP-7K3M9Q2X
// (40 random bits).
func NewReference() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	out := make([]byte, 0, 12)
	out = append(out, "SHP-"...)
	for _, c := range b {
		out = append(out, referenceAlphabet[c&31])
	}
	return string(out), nil
}

func isReferenceConflict(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "reference")
}

func constraintConflict(err error, ref, carrier string) error {
	msg := strings.ToLower(err.Error())
	var e *apperr.Error
	switch {
	case strings.Contains(msg, "reference"):
		e = apperr.New(apperr.Conflict, "a shipment with reference %q already exists", ref)
		e.Field = "input.reference"
	case strings.Contains(msg, "tracking_number"):
		e = apperr.New(apperr.Conflict, "this tracking number is already used by another shipment of carrier %q", carrier)
		e.Field = "input.trackingNumber"
	default:
		e = apperr.New(apperr.Conflict, "the change conflicts with existing data")
	}
	e.Err = err
	return e
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
