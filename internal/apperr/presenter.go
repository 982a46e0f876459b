package apperr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/gid"
)

// Presenter maps errors to GraphQL errors with an extensions.code. Errors that
// are not meant for clients become INTERNAL; their text is shown only when
// showInternal is set (development) and always logged.
func Presenter(logger *slog.Logger, showInternal bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		// Document errors already carry gqlgen's codes (parse, validation,
		// complexity), but the token limit deserves its own.
		if code, ok := gqlErr.Extensions["code"].(string); ok && code != "" {
			if code == string(ParseFailed) && strings.Contains(gqlErr.Message, "token limit") {
				gqlErr.Extensions["code"] = string(TooManyTokens)
			}
			return gqlErr
		}
		var appErr *Error
		switch {
		case errors.As(err, &appErr):
			gqlErr.Message = appErr.Message
			gqlErr.Extensions["code"] = string(appErr.Code)
			if appErr.Field != "" {
				gqlErr.Extensions["field"] = appErr.Field
			}
			for k, v := range appErr.Extensions {
				gqlErr.Extensions[k] = v
			}
		case errors.Is(err, gid.ErrInvalid):
			gqlErr.Message = unwrapMessage(err)
			gqlErr.Extensions["code"] = string(BadUserInput)
		case ent.IsValidationError(err):
			var ve *ent.ValidationError
			errors.As(err, &ve)
			gqlErr.Message = fmt.Sprintf("invalid value for %s", ve.Name)
			gqlErr.Extensions["code"] = string(BadUserInput)
			gqlErr.Extensions["field"] = ve.Name
		case isEmptyWhere(err):
			// A filter object with no field nested in not/and/or (a
			// top-level one is no filter): entgql refuses it.
			gqlErr.Message = "invalid where filter: " + strings.TrimPrefix(unwrapMessage(err), "ent: ") + " (a nested filter needs at least one field)"
			gqlErr.Extensions["code"] = string(BadUserInput)
			gqlErr.Extensions["field"] = "where"
		case errors.Is(err, privacy.Deny):
			gqlErr.Message = "your role does not allow this"
			gqlErr.Extensions["code"] = string(Forbidden)
		case ent.IsNotFound(err):
			gqlErr.Message = "not found"
			gqlErr.Extensions["code"] = string(NotFound)
		case ent.IsConstraintError(err):
			gqlErr.Message = "the change conflicts with existing data"
			gqlErr.Extensions["code"] = string(Conflict)
		case errors.Is(err, context.DeadlineExceeded):
			gqlErr.Message = "the request took too long and was stopped"
			gqlErr.Extensions["code"] = string(Timeout)
		case unwrapMessage(err) == "introspection disabled":
			// gqlgen's answer to __schema and __type when introspection is off.
			gqlErr.Message = "introspection is disabled on this server"
			gqlErr.Extensions["code"] = string(ValidationFailed)
		case isArgumentError(ctx, gqlErr):
			// A value of an argument that does not decode (a malformed cursor,
			// an out-of-range scalar): the message is the decoder's own, about
			// the client's input.
			gqlErr.Message = "invalid value: " + unwrapMessage(err)
			gqlErr.Extensions["code"] = string(BadUserInput)
		case ClientGone(ctx):
			// What fails once the client has gone (a query cut short, a
			// dataloader's batch: "load files: context canceled") is no
			// fault of ours, and nobody will read it: not INTERNAL, not
			// logged (the request's log line says 499).
			gqlErr.Message = "the request was cancelled by its client"
			gqlErr.Extensions["code"] = string(Cancelled)
		default:
			id := RequestID(ctx)
			logger.ErrorContext(ctx, "internal error", slog.String("request_id", id), slog.String("error", err.Error()), slog.Any("path", gqlErr.Path))
			if !showInternal {
				gqlErr.Message = "internal error"
			}
			gqlErr.Extensions["code"] = string(Internal)
			if id != "" {
				gqlErr.Extensions["requestId"] = id
			}
		}
		return gqlErr
	}
}

// Recover turns a panic in a resolver into an INTERNAL error and logs it with
// its stack; the process keeps serving.
func Recover(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		return &Error{Code: Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	}
}

// isArgumentError reports whether gqlErr is located at an argument of the
// field being resolved: gqlgen puts the argument's name after the field's path
// when an argument value fails to decode.
func isArgumentError(ctx context.Context, gqlErr *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	fieldPath := fc.Path()
	if len(gqlErr.Path) <= len(fieldPath) {
		return false
	}
	name, ok := gqlErr.Path[len(fieldPath)].(ast.PathName)
	if !ok {
		return false
	}
	for _, arg := range fc.Field.Arguments {
		if arg.Name == string(name) {
			return true
		}
	}
	return false
}

// emptyWhere is the errors of the generated where inputs for a filter object
// without a field; TestWhereEmptyLists sends one to every where input the API
// takes, so a new one missing here fails it.
var emptyWhere = []error{ent.ErrEmptyShipmentWhereInput, ent.ErrEmptyCustomerWhereInput, ent.ErrEmptyTrackingEventWhereInput}

func isEmptyWhere(err error) bool {
	for _, e := range emptyWhere {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func unwrapMessage(err error) string {
	var gqlErr *gqlerror.Error
	for errors.As(err, &gqlErr) && gqlErr.Err != nil {
		err = gqlErr.Err
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "input: "); i >= 0 {
		msg = msg[i+len("input: "):]
	}
	return msg
}
