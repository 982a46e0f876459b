package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
	"github.com/shipmentapp/shipmentapp/ent/webhookattempt"
	"github.com/shipmentapp/shipmentapp/ent/webhookdelivery"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// Delivery is a delivery of the log with its attempts, oldest first.
type Delivery struct {
	*ent.WebhookDelivery
	Attempts []*ent.WebhookAttempt
}

// DeliveryPage is a page of the delivery log, newest first.
type DeliveryPage struct {
	Deliveries []Delivery
	// HasNext says older deliveries follow; After is the ID to ask after.
	HasNext bool
}

// maxPage bounds a page of the delivery log.
const maxPage = 100

// Deliveries returns the endpoint's deliveries, newest first: first of them
// (at most 100) with an ID below after, with status if given, each with its
// attempts (one statement for all of them).
func (s *Service) Deliveries(ctx context.Context, endpointID int, status *webhookdelivery.Status, first int, after *int) (DeliveryPage, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return DeliveryPage{}, err
	}
	if _, err := s.endpoint(ctx, c, endpointID); err != nil {
		return DeliveryPage{}, err
	}
	if first < 0 || first > maxPage {
		return DeliveryPage{}, apperr.Invalid("first", "between 0 and %d", maxPage)
	}
	sys := system(ctx)
	q := s.client.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(endpointID)).
		Order(ent.Desc(webhookdelivery.FieldID)).Limit(first + 1)
	if status != nil {
		q.Where(webhookdelivery.StatusEQ(*status))
	}
	if after != nil {
		q.Where(webhookdelivery.IDLT(*after))
	}
	rows, err := q.All(sys)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("read webhook deliveries: %w", err)
	}
	page := DeliveryPage{HasNext: len(rows) > first}
	rows = rows[:min(first, len(rows))]
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	attempts := map[int][]*ent.WebhookAttempt{}
	if len(ids) > 0 {
		all, err := s.client.WebhookAttempt.Query().Where(webhookattempt.DeliveryIDIn(ids...)).
			Order(ent.Asc(webhookattempt.FieldID)).All(sys)
		if err != nil {
			return DeliveryPage{}, fmt.Errorf("read webhook attempts: %w", err)
		}
		for _, a := range all {
			attempts[a.DeliveryID] = append(attempts[a.DeliveryID], a)
		}
	}
	for _, r := range rows {
		page.Deliveries = append(page.Deliveries, Delivery{WebhookDelivery: r, Attempts: attempts[r.ID]})
	}
	return page, nil
}

// Redeliver queues delivery id's event again for its endpoint, behind what
// is already queued, with the same webhook-id; it is rendered and sent as
// the endpoint's key sees it then.
func (s *Service) Redeliver(ctx context.Context, id int) (*ent.WebhookDelivery, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	sys := system(ctx)
	d, err := s.client.WebhookDelivery.Get(sys, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("webhook delivery not found")
	} else if err != nil {
		return nil, err
	}
	if _, err := s.endpoint(ctx, c, d.EndpointID); err != nil {
		return nil, apperr.NotFoundf("webhook delivery not found")
	}
	if d.EventSeq == nil {
		return nil, apperr.New(apperr.BadUserInput, "a test delivery is not redelivered: send another test")
	}
	var nd *ent.WebhookDelivery
	err = s.tx(ctx, func(tx *ent.Tx) error {
		now := s.now()
		nd, err = tx.WebhookDelivery.Create().SetEndpointID(d.EndpointID).SetEventSeq(*d.EventSeq).
			SetMessageID(d.MessageID).SetEventType(d.EventType).SetNextAttemptAt(now).Save(sys)
		if err != nil {
			return err
		}
		return s.due(ctx, tx, d.EndpointID, now)
	})
	if err != nil {
		return nil, fmt.Errorf("redeliver webhook delivery %d: %w", id, err)
	}
	return nd, nil
}

// due makes the endpoint due at t at the latest.
func (s *Service) due(ctx context.Context, tx *ent.Tx, endpointID int, t time.Time) error {
	ep, err := tx.WebhookEndpoint.Get(system(ctx), endpointID)
	if err != nil {
		return err
	}
	if ep.NextAttemptAt != nil && !ep.NextAttemptAt.After(t) {
		return nil
	}
	return tx.WebhookEndpoint.UpdateOneID(endpointID).SetNextAttemptAt(t).Exec(system(ctx))
}

// Replay moves an endpoint's cursor back: the events committed after seq
// (or, with since, at or after that time) are delivered again, after what
// is queued, with their webhook-ids. It never moves the cursor forward.
func (s *Service) Replay(ctx context.Context, endpointID int, seq *int64, since *time.Time) (*ent.WebhookEndpoint, error) {
	_, ep, err := s.managed(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	if (seq == nil) == (since == nil) {
		return nil, apperr.New(apperr.BadUserInput, "give after or since, not both")
	}
	sys := system(ctx)
	to := int64(0)
	switch {
	case seq != nil:
		to = *seq
	default:
		first, err := s.client.TrackingEvent.Query().Where(trackingevent.CreatedAtGTE(since.UTC())).
			Order(ent.Asc(trackingevent.FieldSeq)).First(sys)
		switch {
		case ent.IsNotFound(err):
			return ep, nil // nothing since then
		case err != nil:
			return nil, err
		}
		to = first.Seq - 1
	}
	if to < 0 || to >= ep.Cursor {
		return ep, nil
	}
	return s.client.WebhookEndpoint.UpdateOneID(endpointID).SetCursor(to).Save(sys)
}

// SendTest sends a test message to the endpoint now, outside its queue,
// and returns the delivery with its one attempt.
func (s *Service) SendTest(ctx context.Context, endpointID int) (Delivery, error) {
	_, ep, err := s.managed(ctx, endpointID)
	if err != nil {
		return Delivery{}, err
	}
	id, err := newMessageID()
	if err != nil {
		return Delivery{}, err
	}
	sys := system(ctx)
	now := s.now()
	body, err := jsonEnvelope(TypeTest, id, now, map[string]any{"endpointId": ep.ID, "sentBy": viewer.Actor(ctx)})
	if err != nil {
		return Delivery{}, err
	}
	o, dur := s.send(ctx, ep, id, body)
	s.metrics.attempt(o, dur)
	st := Failed
	if o.ok() {
		st = Succeeded
	}
	// Recorded once sent, finished: a test is never in the queue (an
	// instance that dies mid-test leaves nothing half done).
	var d *ent.WebhookDelivery
	err = s.tx(ctx, func(tx *ent.Tx) error {
		c := tx.WebhookDelivery.Create().SetEndpointID(ep.ID).SetMessageID(id).SetEventType(TypeTest).
			SetNextAttemptAt(now).SetStatus(st).SetAttempts(1).SetFinishedAt(s.now()).SetNillableLastStatusCode(o.status)
		if o.err != "" {
			c.SetLastError(clip(o.err, 1024))
		}
		if d, err = c.Save(sys); err != nil {
			return err
		}
		return s.record(ctx, tx, d.ID, now, dur, o)
	})
	if err != nil {
		return Delivery{}, err
	}
	page, err := s.Deliveries(ctx, ep.ID, nil, 1, ptr(d.ID+1))
	if err != nil || len(page.Deliveries) == 0 {
		return Delivery{}, fmt.Errorf("read the test delivery: %w", err)
	}
	return page.Deliveries[0], nil
}

func ptr[T any](v T) *T { return &v }
