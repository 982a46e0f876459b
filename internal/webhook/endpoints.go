package webhook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/webhookattempt"
	"github.com/shipmentapp/shipmentapp/ent/webhookdelivery"
	"github.com/shipmentapp/shipmentapp/ent/webhookendpoint"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/auth"
	"github.com/shipmentapp/shipmentapp/internal/netguard"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
	"github.com/shipmentapp/shipmentapp/internal/whsign"
)

// Endpoint states.
const (
	Enabled  = webhookendpoint.StateENABLED
	Disabled = webhookendpoint.StateDISABLED
)

// CreateInput is a new endpoint.
type CreateInput struct {
	URL         string
	Description string
	// Document is the subscription document (empty: DefaultDocument).
	Document  string
	Variables map[string]any
	// OwnerID is the API key (row ID) the deliveries run as. A PARTNER
	// owns its endpoints (OwnerID empty or its own); staff and admins
	// name any key, or default to their own key.
	OwnerID *int
}

// UpdateInput changes an endpoint; nil fields stay.
type UpdateInput struct {
	URL         *string
	Description *string
	Document    *string
	// Variables replace the endpoint's (with Document or alone).
	Variables map[string]any
	// SetVariables says Variables is given (nil included: no variables).
	SetVariables bool
}

const maxDescription = 512

// caller is the viewer of a management call, with the key it may act for.
type caller struct {
	v *viewer.Viewer
	// keyRow is the viewer's own API key row (0 for a user of the OIDC
	// provider).
	keyRow int
}

func (s *Service) caller(ctx context.Context) (caller, error) {
	if s.opts.Box == nil {
		return caller{}, ErrNotConfigured
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind == viewer.KindSystem || !v.Role.Valid() {
		return caller{}, apperr.New(apperr.Unauthenticated, "an API key or a token is required")
	}
	c := caller{v: v}
	if v.Kind == viewer.KindAPIKey {
		id, err := s.opts.Keys.RowID(ctx, v.ID)
		if err != nil {
			return caller{}, err
		}
		c.keyRow = id
	}
	return c, nil
}

// owns reports whether c may manage ep: staff and admins any, a partner
// its own.
func (c caller) owns(ep *ent.WebhookEndpoint) bool {
	return c.v.Can(viewer.RoleStaff) || (c.keyRow != 0 && ep.OwnerID == c.keyRow)
}

// endpoint reads endpoint id for c: NOT_FOUND when it does not exist or c
// may not manage it (a partner does not learn of others' endpoints).
func (s *Service) endpoint(ctx context.Context, c caller, id int) (*ent.WebhookEndpoint, error) {
	ep, err := s.client.WebhookEndpoint.Get(system(ctx), id)
	if ent.IsNotFound(err) || (err == nil && !c.owns(ep)) {
		return nil, apperr.NotFoundf("webhook endpoint not found")
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook endpoint %d: %w", id, err)
	}
	return ep, nil
}

// managed is the caller of a management call and endpoint id, which it
// may manage.
func (s *Service) managed(ctx context.Context, id int) (caller, *ent.WebhookEndpoint, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return caller{}, nil, err
	}
	ep, err := s.endpoint(ctx, c, id)
	return c, ep, err
}

// owner resolves who an endpoint created by c delivers as.
func (s *Service) owner(ctx context.Context, c caller, id *int) (int, *viewer.Viewer, error) {
	row := c.keyRow
	if id != nil {
		if !c.v.Can(viewer.RoleStaff) && *id != c.keyRow {
			return 0, nil, apperr.New(apperr.Forbidden, "a partner's endpoints deliver as its own key")
		}
		row = *id
	}
	if row == 0 {
		return 0, nil, apperr.Invalid("ownerId", "an endpoint delivers as an API key: name one (ownerId)")
	}
	v, state, err := s.opts.Keys.ViewerOf(ctx, row)
	if ent.IsNotFound(err) {
		return 0, nil, apperr.Invalid("ownerId", "no API key with this ID")
	}
	if err != nil {
		return 0, nil, err
	}
	if state != auth.KeyActive {
		return 0, nil, apperr.Invalid("ownerId", "the API key is %s", strings.ToLower(string(state)))
	}
	return row, v, nil
}

// checkURL checks a receiver's URL now; deliveries check its addresses
// again each time they connect.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	u, err := s.opts.Policy.CheckURL(ctx, strings.TrimSpace(raw))
	var refused *netguard.Error
	if errors.As(err, &refused) {
		return "", apperr.Invalid("url", "%s", refused.Reason)
	}
	if err != nil {
		return "", fmt.Errorf("check url: %w", err)
	}
	return u.String(), nil
}

func (s *Service) checkDocument(ctx context.Context, v *viewer.Viewer, doc string, vars map[string]any) (string, error) {
	if strings.TrimSpace(doc) == "" {
		doc = DefaultDocument
	}
	if err := s.opts.Renderer.Check(ctx, v, doc, vars); err != nil {
		return "", err
	}
	return doc, nil
}

// checkDescription trims d: blank is absent (nil), as for every optional
// text of the API.
func checkDescription(d string) (*string, error) {
	d = strings.TrimSpace(d)
	if len(d) > maxDescription {
		return nil, apperr.Invalid("description", "at most %d bytes", maxDescription)
	}
	if d == "" {
		return nil, nil
	}
	return &d, nil
}

// sealAAD binds a sealed secret to its endpoint.
func sealAAD(id int) []byte { return []byte("webhook_endpoint:" + strconv.Itoa(id) + ":secret") }

// Create adds an endpoint for ctx's viewer and returns it with its signing
// secret, which is shown this once. It receives the events committed from
// now on.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.WebhookEndpoint, string, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, "", err
	}
	ownerID, owner, err := s.owner(ctx, c, in.OwnerID)
	if err != nil {
		return nil, "", err
	}
	url, err := s.checkURL(ctx, in.URL)
	if err != nil {
		return nil, "", err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, "", err
	}
	doc, err := s.checkDocument(ctx, owner, in.Document, in.Variables)
	if err != nil {
		return nil, "", err
	}
	n, err := s.client.WebhookEndpoint.Query().Where(webhookendpoint.OwnerID(ownerID)).Count(system(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("count webhook endpoints: %w", err)
	}
	if n >= s.opts.MaxEndpoints {
		return nil, "", apperr.New(apperr.Conflict, "this key has %d webhook endpoints, the most allowed (WEBHOOK_MAX_ENDPOINTS); delete one first", n)
	}
	head, err := s.opts.Hub.Head(ctx)
	if err != nil {
		return nil, "", err
	}
	secret, err := whsign.NewSecret()
	if err != nil {
		return nil, "", err
	}
	var ep *ent.WebhookEndpoint
	err = s.tx(ctx, func(tx *ent.Tx) error {
		// The row first (its ID binds the sealed secret), then the secret.
		ep, err = tx.WebhookEndpoint.Create().
			SetOwnerID(ownerID).SetURL(url).SetNillableDescription(desc).SetDocument(doc).SetVariables(in.Variables).
			SetSecret("-").SetCursor(head).SetCreatedBy(c.v.Actor()).
			Save(system(ctx))
		if err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		sealed, err := s.opts.Box.Seal([]byte(secret), sealAAD(ep.ID))
		if err != nil {
			return err
		}
		ep, err = ep.Update().SetSecret(sealed).Save(system(ctx))
		return err
	})
	if err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "webhook endpoint created", "endpoint", ep.ID, "owner", ownerID, "actor", c.v.Actor())
	return ep, secret, nil
}

// List returns the endpoints ctx's viewer manages: a partner's own, every
// one for staff and admins (ownerID narrows to one key's).
func (s *Service) List(ctx context.Context, ownerID *int) ([]*ent.WebhookEndpoint, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	q := s.client.WebhookEndpoint.Query().Order(ent.Asc(webhookendpoint.FieldID))
	switch {
	case !c.v.Can(viewer.RoleStaff) && c.keyRow == 0:
		return []*ent.WebhookEndpoint{}, nil
	case !c.v.Can(viewer.RoleStaff):
		q.Where(webhookendpoint.OwnerID(c.keyRow))
	case ownerID != nil:
		q.Where(webhookendpoint.OwnerID(*ownerID))
	}
	eps, err := q.All(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return eps, nil
}

// Get returns endpoint id.
func (s *Service) Get(ctx context.Context, id int) (*ent.WebhookEndpoint, error) {
	c, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.endpoint(ctx, c, id)
}

// Update changes an endpoint's URL, description, document or variables;
// what changed applies from the next attempt on.
func (s *Service) Update(ctx context.Context, id int, in UpdateInput) (*ent.WebhookEndpoint, error) {
	_, ep, err := s.managed(ctx, id)
	if err != nil {
		return nil, err
	}
	u := s.client.WebhookEndpoint.UpdateOne(ep)
	if in.URL != nil {
		url, err := s.checkURL(ctx, *in.URL)
		if err != nil {
			return nil, err
		}
		u.SetURL(url)
	}
	if in.Description != nil {
		d, err := checkDescription(*in.Description)
		if err != nil {
			return nil, err
		}
		if d == nil {
			u.ClearDescription()
		} else {
			u.SetDescription(*d)
		}
	}
	if in.Document != nil || in.SetVariables {
		doc, vars := ep.Document, ep.Variables
		if in.Document != nil {
			doc = *in.Document
		}
		if in.SetVariables {
			vars = in.Variables
		}
		_, owner, err := s.owner(ctx, caller{v: viewer.System("webhook"), keyRow: ep.OwnerID}, nil)
		if err != nil {
			return nil, err
		}
		if doc, err = s.checkDocument(ctx, owner, doc, vars); err != nil {
			return nil, err
		}
		u.SetDocument(doc).SetVariables(vars)
	}
	ep, err = u.Save(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("update webhook endpoint %d: %w", id, err)
	}
	return ep, nil
}

// RotateSecret gives an endpoint a new signing secret, returned this once;
// the previous one keeps signing beside it for SecretOverlap, so that the
// receiver can switch without missing a delivery.
func (s *Service) RotateSecret(ctx context.Context, id int) (*ent.WebhookEndpoint, string, error) {
	c, ep, err := s.managed(ctx, id)
	if err != nil {
		return nil, "", err
	}
	secret, err := whsign.NewSecret()
	if err != nil {
		return nil, "", err
	}
	sealed, err := s.opts.Box.Seal([]byte(secret), sealAAD(ep.ID))
	if err != nil {
		return nil, "", err
	}
	until := s.now().Add(SecretOverlap)
	ep, err = s.client.WebhookEndpoint.UpdateOne(ep).
		SetSecret(sealed).SetPreviousSecret(ep.Secret).SetPreviousSecretUntil(until).
		Save(system(ctx))
	if err != nil {
		return nil, "", fmt.Errorf("rotate the secret of webhook endpoint %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "webhook secret rotated", "endpoint", ep.ID, "actor", c.v.Actor())
	return ep, secret, nil
}

// SetEnabled enables or disables an endpoint. Enabled again, it resumes
// from where it stopped, its run of failures forgotten.
func (s *Service) SetEnabled(ctx context.Context, id int, enabled bool) (*ent.WebhookEndpoint, error) {
	c, ep, err := s.managed(ctx, id)
	if err != nil {
		return nil, err
	}
	u := s.client.WebhookEndpoint.UpdateOne(ep)
	if enabled {
		if _, _, err := s.owner(ctx, caller{v: viewer.System("webhook"), keyRow: ep.OwnerID}, nil); err != nil {
			return nil, apperr.New(apperr.Conflict, "the endpoint's API key can no longer receive: %v", err)
		}
		u.SetState(Enabled).ClearDisabledAt().ClearDisabledReason().ClearFailingSince()
	} else if ep.State == Enabled {
		u.SetState(Disabled).SetDisabledAt(s.now()).SetDisabledReason("disabled by " + c.v.Actor())
	}
	ep, err = u.Save(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("update webhook endpoint %d: %w", id, err)
	}
	return ep, nil
}

// Delete removes an endpoint with its delivery log.
func (s *Service) Delete(ctx context.Context, id int) (*ent.WebhookEndpoint, error) {
	c, ep, err := s.managed(ctx, id)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *ent.Tx) error {
		sys := system(ctx)
		ids, err := tx.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(id)).IDs(sys)
		if err != nil {
			return err
		}
		for chunk := range chunks(ids, 500) {
			if _, err := tx.WebhookAttempt.Delete().Where(webhookattempt.DeliveryIDIn(chunk...)).Exec(sys); err != nil {
				return err
			}
		}
		if _, err := tx.WebhookDelivery.Delete().Where(webhookdelivery.EndpointID(id)).Exec(sys); err != nil {
			return err
		}
		return tx.WebhookEndpoint.DeleteOneID(id).Exec(sys)
	})
	if err != nil {
		return nil, fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	s.log.InfoContext(ctx, "webhook endpoint deleted", "endpoint", id, "actor", c.v.Actor())
	return ep, nil
}

// chunks yields s in slices of at most n.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// tx runs fn in a transaction of the main database.
func (s *Service) tx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.client.Tx(system(ctx))
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// secrets returns the endpoint's live signing secrets, newest first.
func (s *Service) secrets(ep *ent.WebhookEndpoint, now time.Time) ([]string, error) {
	cur, err := s.opts.Box.Open(ep.Secret, sealAAD(ep.ID))
	if err != nil {
		return nil, fmt.Errorf("open the secret of webhook endpoint %d: %w", ep.ID, err)
	}
	out := []string{string(cur)}
	if ep.PreviousSecret != nil && ep.PreviousSecretUntil != nil && now.Before(*ep.PreviousSecretUntil) {
		prev, err := s.opts.Box.Open(*ep.PreviousSecret, sealAAD(ep.ID))
		if err != nil {
			return nil, fmt.Errorf("open the previous secret of webhook endpoint %d: %w", ep.ID, err)
		}
		out = append(out, string(prev))
	}
	return out, nil
}
