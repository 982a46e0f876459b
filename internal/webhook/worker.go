package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/webhookdelivery"
	"github.com/shipmentapp/shipmentapp/ent/webhookendpoint"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/gid"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/netguard"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// Event types of the envelope.
const (
	TypeTrackingEvent = "shipment.tracking_event"
	TypeTest          = "webhook.test"
)

// Delivery statuses.
const (
	Pending   = webhookdelivery.StatusPENDING
	Retrying  = webhookdelivery.StatusRETRYING
	Succeeded = webhookdelivery.StatusSUCCEEDED
	Failed    = webhookdelivery.StatusFAILED
	Cancelled = webhookdelivery.StatusCANCELLED
)

// readBatch is how many events of the log one endpoint takes at a time.
const readBatch = 100

// slice bounds the deliveries one worker makes to one endpoint before it
// lets the endpoint go (other endpoints, other instances get their turn).
const slice = 200

// envelope is a delivery's body: the event's type, ID and time, and the
// document's result for it.
type envelope struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	Errors    json.RawMessage `json:"errors,omitempty"`
}

// EventID is the stable ID of an event of the log: its tracking event's
// global ID (a partner can look it up with node(id)). It is the webhook-id
// of every delivery of the event.
func EventID(ev *live.Event) string {
	return gid.New(gid.TypeTrackingEvent, ev.TrackingEvent().ID).String()
}

// Run delivers until ctx ends, with Options.Workers workers.
func (s *Service) Run(ctx context.Context) {
	if s.opts.Box == nil {
		return
	}
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() { s.work(ctx) })
	}
	wg.Go(func() { s.janitor(ctx) })
	wg.Wait()
}

// work is one worker: it claims a due endpoint, delivers to it, lets it go,
// and waits for new events or the next due retry when nothing is due.
func (s *Service) work(ctx context.Context) {
	for ctx.Err() == nil {
		advanced := s.opts.Hub.Advanced()
		ep, err := s.claim(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "webhooks: claim an endpoint", "error", err.Error())
			}
			sleep(ctx, time.Second+jitter(time.Second))
			continue
		}
		if ep == nil {
			// Nothing due: wait for the log to move, or for retries and
			// leases to come due.
			select {
			case <-ctx.Done():
			case <-advanced:
			case <-time.After(time.Second + jitter(time.Second)):
			}
			continue
		}
		if !s.serve(ctx, ep) {
			// A database or render failure: let the endpoint rest.
			sleep(ctx, time.Second+jitter(time.Second))
		}
	}
}

// claim takes the lease of an endpoint with something due: new events past
// its cursor and no delivery waiting, or a delivery whose time came. The
// lease is a compare-and-set on the row: one instance wins, on every
// database, with or without Redis.
func (s *Service) claim(ctx context.Context) (*ent.WebhookEndpoint, error) {
	now := s.now()
	head := s.opts.Hub.Position()
	sys := system(ctx)
	ids, err := s.client.WebhookEndpoint.Query().
		Where(
			webhookendpoint.StateEQ(Enabled),
			webhookendpoint.Or(webhookendpoint.LeaseUntilIsNil(), webhookendpoint.LeaseUntilLT(now)),
			webhookendpoint.Or(
				webhookendpoint.And(webhookendpoint.NextAttemptAtIsNil(), webhookendpoint.CursorLT(head)),
				webhookendpoint.NextAttemptAtLTE(now),
			),
		).
		Order(ent.Asc(webhookendpoint.FieldUpdatedAt)).
		Limit(8).
		IDs(sys)
	if err != nil {
		return nil, fmt.Errorf("find due webhook endpoints: %w", err)
	}
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids {
		n, err := s.client.WebhookEndpoint.Update().
			Where(webhookendpoint.ID(id),
				webhookendpoint.Or(webhookendpoint.LeaseUntilIsNil(), webhookendpoint.LeaseUntilLT(now))).
			SetLeaseOwner(s.opts.Instance).SetLeaseUntil(now.Add(s.opts.Lease)).
			Save(sys)
		if err != nil {
			return nil, fmt.Errorf("lease webhook endpoint %d: %w", id, err)
		}
		if n == 1 {
			return s.client.WebhookEndpoint.Get(sys, id)
		}
	}
	return nil, nil
}

// errLostLease ends the work on an endpoint whose lease another instance
// took (this one was too slow to renew it).
var errLostLease = errors.New("webhook: the endpoint's lease was lost")

// fence renews the lease inside tx: the write that follows happens only if
// this instance still holds the endpoint.
func (s *Service) fence(ctx context.Context, tx *ent.Tx, id int) error {
	now := s.now()
	n, err := tx.WebhookEndpoint.Update().
		Where(webhookendpoint.ID(id), webhookendpoint.LeaseOwner(s.opts.Instance), webhookendpoint.LeaseUntilGT(now)).
		SetLeaseUntil(now.Add(s.opts.Lease)).
		Save(system(ctx))
	if err != nil {
		return fmt.Errorf("renew the lease of webhook endpoint %d: %w", id, err)
	}
	if n == 0 {
		return errLostLease
	}
	return nil
}

// head is the endpoint's oldest delivery still to make (PENDING or
// RETRYING, of an event: tests are never queued): the one the others wait
// behind. ctx is a system context.
func (s *Service) head(ctx context.Context, endpointID int) (*ent.WebhookDelivery, error) {
	return s.client.WebhookDelivery.Query().
		Where(webhookdelivery.EndpointID(endpointID), webhookdelivery.StatusIn(Pending, Retrying), webhookdelivery.EventSeqNotNil()).
		Order(ent.Asc(webhookdelivery.FieldID)).First(ctx)
}

// release lets the endpoint go, saying when its next delivery is due.
func (s *Service) release(ctx context.Context, id int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	sys := system(ctx)
	next, err := s.head(sys, id)
	u := s.client.WebhookEndpoint.Update().
		Where(webhookendpoint.ID(id), webhookendpoint.LeaseOwner(s.opts.Instance)).
		SetLeaseOwner("").ClearLeaseUntil()
	switch {
	case ent.IsNotFound(err):
		u.ClearNextAttemptAt()
	case err != nil:
		s.log.WarnContext(ctx, "webhooks: release an endpoint", "endpoint", id, "error", err.Error())
		return // the lease expires by itself
	default:
		u.SetNextAttemptAt(next.NextAttemptAt)
	}
	if _, err := u.Save(sys); err != nil {
		s.log.WarnContext(ctx, "webhooks: release an endpoint", "endpoint", id, "error", err.Error())
	}
}

// serve delivers to an endpoint whose lease this worker holds, in order,
// until nothing is due, the slice is used, or the lease is lost.
func (s *Service) serve(ctx context.Context, ep *ent.WebhookEndpoint) bool {
	defer s.release(ctx, ep.ID)
	for n := 0; n < slice && ctx.Err() == nil; n++ {
		more, err := s.step(ctx, ep.ID)
		if errors.Is(err, errLostLease) || errors.Is(err, errDisabled) {
			return true
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "webhooks: deliver", "endpoint", ep.ID, "error", err.Error())
			}
			return false
		}
		if !more {
			return true
		}
	}
	return true
}

// step makes one move on an endpoint: attempt the oldest delivery waiting,
// or take the next events of the log. It reports whether more is due now.
func (s *Service) step(ctx context.Context, id int) (bool, error) {
	sys := system(ctx)
	ep, err := s.client.WebhookEndpoint.Get(sys, id)
	if err != nil {
		return false, fmt.Errorf("read webhook endpoint: %w", err)
	}
	if ep.State != Enabled || ep.LeaseOwner != s.opts.Instance {
		return false, nil
	}
	owner, state, err := s.opts.Keys.ViewerOf(ctx, ep.OwnerID)
	if ent.IsNotFound(err) {
		state = auth.KeyRevoked
	} else if err != nil {
		return false, err
	}
	if state != auth.KeyActive {
		return false, s.disable(ctx, ep, fmt.Sprintf("its API key is %s", state))
	}
	head, err := s.head(sys, id)
	switch {
	case err == nil:
		if head.NextAttemptAt.After(s.now()) {
			return false, nil // release records when it is due
		}
		return true, s.attempt(ctx, ep, owner, head, nil)
	case !ent.IsNotFound(err):
		return false, fmt.Errorf("read the next delivery: %w", err)
	}
	evs, err := s.opts.Hub.Read(ctx, ep.Cursor, readBatch)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	// The events the owner may not see, or the document does not select,
	// move the cursor; the first one it does becomes a delivery, attempted
	// at once.
	for _, ev := range evs {
		result, err := s.render(ctx, ep, owner, ev)
		if err != nil {
			return false, err
		}
		if result == nil {
			ep.Cursor = ev.Seq
			continue
		}
		var d *ent.WebhookDelivery
		err = s.tx(ctx, func(tx *ent.Tx) error {
			if err := s.fence(ctx, tx, id); err != nil {
				return err
			}
			if err := tx.WebhookEndpoint.UpdateOneID(id).SetCursor(ev.Seq).Exec(sys); err != nil {
				return err
			}
			seq := ev.Seq
			d, err = tx.WebhookDelivery.Create().
				SetEndpointID(id).SetEventSeq(seq).SetMessageID(EventID(ev)).SetEventType(TypeTrackingEvent).
				SetNextAttemptAt(s.now()).Save(sys)
			return err
		})
		if err != nil {
			return false, err
		}
		return true, s.attempt(ctx, ep, owner, d, &rendered{ev: ev, result: result})
	}
	err = s.tx(ctx, func(tx *ent.Tx) error {
		if err := s.fence(ctx, tx, id); err != nil {
			return err
		}
		return tx.WebhookEndpoint.UpdateOneID(id).SetCursor(ep.Cursor).Exec(sys)
	})
	return err == nil, err
}

// rendered is an event with the document's result for it.
type rendered struct {
	ev     *live.Event
	result *Result
}

// render runs the endpoint's document for ev as its owner: nil when the
// event is not the endpoint's. A document that no longer runs disables
// the endpoint (errLostLease-like: the work on it stops).
func (s *Service) render(ctx context.Context, ep *ent.WebhookEndpoint, owner *viewer.Viewer, ev *live.Event) (*Result, error) {
	if !live.Visible(owner, ev) {
		return nil, nil
	}
	result, err := s.opts.Renderer.Render(ctx, owner, ep.Document, ep.Variables, ev)
	var docErr *DocumentError
	if errors.As(err, &docErr) {
		if derr := s.disable(ctx, ep, docErr.Error()); derr != nil {
			return nil, derr
		}
		return nil, errDisabled
	}
	if err != nil {
		return nil, fmt.Errorf("render event %d: %w", ev.Seq, err)
	}
	return result, nil
}

// errDisabled ends the work on an endpoint just disabled.
var errDisabled = errors.New("webhook: the endpoint was disabled")

// outcome is what one attempt came to.
type outcome struct {
	status   *int
	err      string
	response []byte
	// retryAfter is the receiver's Retry-After (429, 503).
	retryAfter time.Duration
}

func (o outcome) ok() bool { return o.err == "" && o.status != nil && *o.status/100 == 2 }

// retryable: timeouts, connection errors, refused addresses (DNS may
// change), 408, 409, 429 and 5xx. Other answers are final.
func (o outcome) retryable() bool {
	if o.status == nil {
		return true
	}
	switch c := *o.status; {
	case c == http.StatusRequestTimeout, c == http.StatusConflict, c == http.StatusTooManyRequests, c >= 500:
		return true
	}
	return false
}

// attempt sends delivery d once and records what came of it. pre is the
// event already rendered when d was made (nil: render now, as the owner
// is now).
func (s *Service) attempt(ctx context.Context, ep *ent.WebhookEndpoint, owner *viewer.Viewer, d *ent.WebhookDelivery, pre *rendered) error {
	sys := system(ctx)
	var body []byte
	if d.EventSeq != nil {
		if pre == nil {
			evs, err := s.opts.Hub.Read(ctx, *d.EventSeq-1, 1)
			if err != nil {
				return err
			}
			var result *Result
			if len(evs) == 1 && evs[0].Seq == *d.EventSeq {
				if result, err = s.render(ctx, ep, owner, evs[0]); err != nil {
					return err
				}
			}
			if result == nil {
				// The owner may no longer see it (or it is gone): never sent.
				return s.finish(ctx, ep, d, Cancelled, "the event is no longer visible to the endpoint's key")
			}
			pre = &rendered{ev: evs[0], result: result}
		}
		var err error
		body, err = json.Marshal(envelope{Type: d.EventType, ID: d.MessageID, Timestamp: pre.ev.TrackingEvent().CreatedAt.UTC(),
			Data: pre.result.Data, Errors: pre.result.Errors})
		if err != nil {
			return err
		}
	}
	o, dur := s.send(ctx, ep, d.MessageID, body)
	now := s.now()
	s.metrics.attempt(o, dur)
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := s.fence(ctx, tx, ep.ID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, d.ID, now.Add(-dur), dur, o); err != nil {
			return err
		}
		attempts := d.Attempts + 1
		u := tx.WebhookDelivery.UpdateOneID(d.ID).SetAttempts(attempts).SetNillableLastStatusCode(o.status)
		eu := tx.WebhookEndpoint.UpdateOneID(ep.ID)
		switch {
		case o.ok():
			u.SetStatus(Succeeded).SetFinishedAt(now).ClearLastError()
			eu.ClearFailingSince()
			s.metrics.delivered(string(Succeeded))
		case o.retryable() && attempts < len(s.opts.Schedule):
			delay := max(s.opts.Schedule[attempts]+jitter(s.opts.Schedule[attempts]/10), o.retryAfter)
			u.SetStatus(Retrying).SetNextAttemptAt(now.Add(delay)).SetLastError(clip(o.err, 1024))
			eu.SetNextAttemptAt(now.Add(delay))
		default:
			u.SetStatus(Failed).SetFinishedAt(now).SetLastError(clip(o.err, 1024))
			s.metrics.delivered(string(Failed))
		}
		if !o.ok() {
			since := now
			if ep.FailingSince != nil {
				since = *ep.FailingSince
			} else {
				eu.SetFailingSince(now)
			}
			if now.Sub(since) >= s.opts.DisableAfter {
				reason := fmt.Sprintf("failing since %s: %s", since.Format(time.RFC3339), clip(o.err, 300))
				eu.SetState(Disabled).SetDisabledAt(now).SetDisabledReason(clip(reason, 512))
				s.metrics.disabledEndpoint()
				s.log.WarnContext(ctx, "webhook endpoint disabled: failing continuously", "endpoint", ep.ID, "since", since, "error", o.err)
			}
		}
		if err := u.Exec(sys); err != nil {
			return err
		}
		return eu.Exec(sys)
	})
}

// finish ends delivery d without an attempt.
func (s *Service) finish(ctx context.Context, ep *ent.WebhookEndpoint, d *ent.WebhookDelivery, st webhookdelivery.Status, why string) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := s.fence(ctx, tx, ep.ID); err != nil {
			return err
		}
		s.metrics.delivered(string(st))
		return tx.WebhookDelivery.UpdateOneID(d.ID).SetStatus(st).SetFinishedAt(s.now()).SetLastError(why).Exec(system(ctx))
	})
}

// disable turns an endpoint off for why.
func (s *Service) disable(ctx context.Context, ep *ent.WebhookEndpoint, why string) error {
	s.log.WarnContext(ctx, "webhook endpoint disabled", "endpoint", ep.ID, "reason", why)
	s.metrics.disabledEndpoint()
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := s.fence(ctx, tx, ep.ID); err != nil {
			return err
		}
		return tx.WebhookEndpoint.UpdateOneID(ep.ID).SetState(Disabled).SetDisabledAt(s.now()).SetDisabledReason(clip(why, 512)).Exec(system(ctx))
	})
}

// record adds an attempt to the delivery log.
func (s *Service) record(ctx context.Context, tx *ent.Tx, deliveryID int, at time.Time, dur time.Duration, o outcome) error {
	c := tx.WebhookAttempt.Create().SetDeliveryID(deliveryID).SetAt(at).SetDurationMs(int(dur.Milliseconds())).
		SetNillableStatusCode(o.status).SetInstance(clip(s.opts.Instance, 128))
	if o.err != "" {
		c.SetError(clip(o.err, 1024))
	}
	if o.response != nil {
		c.SetResponse(string(bytes.ToValidUTF8(o.response, []byte("\uFFFD"))))
	}
	return c.Exec(system(ctx))
}

// maxResponse is what the log keeps of a receiver's answer.
const maxResponse = 1024

// send POSTs body to the endpoint, signed with its live secrets.
func (s *Service) send(ctx context.Context, ep *ent.WebhookEndpoint, msgID string, body []byte) (outcome, time.Duration) {
	start := time.Now()
	o := s.post(ctx, ep, msgID, body)
	return o, time.Since(start)
}

func (s *Service) post(ctx context.Context, ep *ent.WebhookEndpoint, msgID string, body []byte) outcome {
	secrets, err := s.secrets(ep, s.now())
	if err != nil {
		return outcome{err: "the endpoint's secret cannot be read: " + err.Error()}
	}
	h, err := whsign.Sign(secrets, msgID, s.now(), body)
	if err != nil {
		return outcome{err: "sign: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: "bad url: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shipmentapp-webhooks/1")
	h.Set(req.Header)
	resp, err := s.http.Do(req)
	if err != nil {
		return outcome{err: describe(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	code := resp.StatusCode
	o := outcome{status: &code}
	o.response, err = netguard.ReadLimited(resp.Body, maxResponse)
	if err != nil && code/100 == 2 {
		// The receiver closed mid-answer: it may not have taken it.
		o.err = "the answer was cut short: " + describe(err)
		o.status = nil
		return o
	}
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		o.retryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	switch {
	case code/100 == 2:
	case code/100 == 3:
		o.err = fmt.Sprintf("HTTP %d: redirects are not followed; register the final URL", code)
	default:
		o.err = fmt.Sprintf("HTTP %d", code)
	}
	return o
}

// describe says what went wrong with a request in words for the log,
// without the server's own addresses.
func describe(err error) string {
	var refused *netguard.Error
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		return "refused: " + refused.Reason
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "connection failed: " + oe.Err.Error()
	}
	return err.Error()
}

// maxRetryAfter bounds a receiver's Retry-After.
const maxRetryAfter = 24 * time.Hour

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// jitter is a random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
