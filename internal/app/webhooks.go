package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/live"
	"github.com/shipmentapp/shipmentapp/internal/netguard"
	"github.com/shipmentapp/shipmentapp/internal/secretbox"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
	"github.com/shipmentapp/shipmentapp/internal/webhook"
)

// webhooks builds the webhook service from WEBHOOK_*: its secret key ring
// (in development, a key of its own under APP_DATA_DIR), the outbound
// policy (no address checks in development), and the renderer that runs
// endpoints' documents on the API's executor.
func (a *App) webhooks(ctx context.Context) error {
	cfg := a.Config.Webhooks
	schedule, err := cfg.Schedule()
	if err != nil {
		return err
	}
	nets, err := cfg.Networks()
	if err != nil {
		return err
	}
	keys := cfg.SecretKeys
	if keys == "" && a.Config.IsDevelopment() {
		k, err := devKey(a.Config.DataDir, "webhook-secret.key")
		if err != nil {
			return err
		}
		keys = string(k)
	}
	var box *secretbox.Box
	if keys != "" {
		parsed, err := secretbox.ParseKeys(keys)
		if err != nil {
			return fmt.Errorf("WEBHOOK_SECRET_KEYS: %w", err)
		}
		if box, err = secretbox.New(parsed); err != nil {
			return fmt.Errorf("WEBHOOK_SECRET_KEYS: %w", err)
		}
	} else {
		a.Logger.WarnContext(ctx, "webhooks are off: WEBHOOK_SECRET_KEYS is not set (required outside development)")
	}
	workers := cfg.Workers
	if a.Config.DB.Connection == config.DriverSQLite {
		workers = 1 // one writer
	}
	host, _ := os.Hostname()
	a.Webhooks, err = webhook.New(webhook.Options{
		Client: a.Client, Hub: a.Live, Keys: a.Keys, Box: box,
		Renderer: &renderer{app: a},
		Policy: netguard.Policy{
			Open: a.Config.IsDevelopment(), AllowHTTP: cfg.AllowHTTP || a.Config.IsDevelopment(), Allowed: nets,
		},
		Timeout: cfg.Timeout, ConnectTimeout: cfg.ConnectTimeout, Schedule: schedule,
		DisableAfter: cfg.DisableAfter, MaxEndpoints: cfg.MaxEndpoints, Workers: workers,
		Lease: cfg.Lease, Retention: cfg.Retention,
		Instance: fmt.Sprintf("%s:%d:%d", host, os.Getpid(), time.Now().UnixNano()%1e6),
		Logger:   a.Logger.With(slog.String("component", "webhooks")), Registry: a.Registry,
	})
	return err
}

// renderer runs endpoints' documents on an executor of the API's schema
// with the API's rules (setupExecutor without what only HTTP requests
// have): a delivery is a subscription's result for one event, made by the
// same resolvers as a websocket's.
type renderer struct {
	app  *App
	once sync.Once
	exec *executor.Executor
}

func (r *renderer) executor() *executor.Executor {
	r.once.Do(func() {
		r.exec = executor.New(r.app.executableSchema())
		r.app.setupExecutor(r.exec, false)
	})
	return r.exec
}

// durableFields are the subscription fields that follow the event log.
var durableFields = map[string]bool{"shipmentEvents": true, "trackingEventAdded": true}

// operation parses and validates document as v, with its variables, and
// checks it is a subscription a webhook can deliver.
func (r *renderer) operation(ctx context.Context, v *viewer.Viewer, document string, variables map[string]any) (context.Context, *graphql.OperationContext, error) {
	ctx = graphql.StartOperationTrace(viewer.NewContext(ctx, v))
	now := graphql.Now()
	oc, errs := r.executor().CreateOperationContext(ctx, &graphql.RawParams{
		Query: document, Variables: variables, ReadTime: graphql.TraceTiming{Start: now, End: now},
	})
	if len(errs) > 0 {
		return nil, nil, documentError(errs)
	}
	op := oc.Operation
	if op.Operation != ast.Subscription {
		return nil, nil, apperr.Invalid("document", "must be a subscription (got a %s)", op.Operation)
	}
	fields := graphql.CollectFields(oc, op.SelectionSet, nil)
	if len(fields) != 1 || !durableFields[fields[0].Name] {
		return nil, nil, apperr.Invalid("document", "must subscribe to shipmentEvents or trackingEventAdded, the fields that follow the event log")
	}
	if fields[0].Name == "shipmentEvents" && fields[0].Arguments.ForName("after") != nil {
		return nil, nil, apperr.Invalid("document", "shipmentEvents takes no after here: the endpoint resumes from its own cursor")
	}
	return graphql.WithOperationContext(ctx, oc), oc, nil
}

// documentError turns the executor's validation errors into one
// BAD_USER_INPUT error naming the document.
func documentError(errs gqlerror.List) error {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		if code, _ := e.Extensions["code"].(string); code == string(apperr.Unavailable) || code == string(apperr.TooManyTokens) {
			return e
		}
		msg := e.Message
		if len(e.Path) > 0 { // a variable's errors name it by their path alone
			msg = e.Path.String() + " " + msg
		}
		msgs = append(msgs, msg)
	}
	return apperr.Invalid("document", "%s", strings.Join(msgs, "; "))
}

// Check implements webhook.Renderer.
func (r *renderer) Check(ctx context.Context, v *viewer.Viewer, document string, variables map[string]any) error {
	_, _, err := r.operation(ctx, v, document, variables)
	return err
}

// renderTimeout bounds the execution of a document for one event.
const renderTimeout = 10 * time.Second

// Render implements webhook.Renderer.
func (r *renderer) Render(ctx context.Context, v *viewer.Viewer, document string, variables map[string]any, ev *live.Event) (*webhook.Result, error) {
	ctx, cancel := context.WithTimeout(live.WithEvent(ctx, ev), renderTimeout)
	defer cancel()
	ctx, oc, err := r.operation(ctx, v, document, variables)
	if err != nil {
		return nil, &webhook.DocumentError{Err: err}
	}
	next, rctx := r.executor().DispatchOperation(ctx, oc)
	resp := next(rctx)
	if resp == nil {
		return nil, nil
	}
	for next(rctx) != nil { // the one-shot subscription has ended
	}
	if len(resp.Errors) > 0 && isNull(resp.Data) {
		// The field itself failed: a passing failure (a database, a
		// timeout) is retried; any other will fail again.
		for _, e := range resp.Errors {
			switch code, _ := e.Extensions["code"].(string); apperr.Code(code) {
			case apperr.Internal, apperr.Unavailable, apperr.Timeout, apperr.DolibarrUnavailable, apperr.Cancelled:
				return nil, fmt.Errorf("render: %s", e.Message)
			}
		}
		return nil, &webhook.DocumentError{Err: resp.Errors}
	}
	res := &webhook.Result{Data: resp.Data}
	if len(resp.Errors) > 0 {
		if res.Errors, err = json.Marshal(resp.Errors); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}
