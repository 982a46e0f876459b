package generated

// This file is written by hand (gqlgen writes generated.go only): it lets the
// planned executor (graph/plan) parse a field's arguments exactly as the
// generated executor does — defaults, variable coercion, custom scalars such
// as cursors and IDs, input objects — without going through gqlgen's per-field
// machinery. See docs/DECISIONS.md, "Planned execution".

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
)

// Args returns the arguments of the field object.name of the schema es (made
// by NewExecutableSchema), parsed from field's arguments and the operation's
// variables. Only the fields graph/plan runs itself are known; any other is
// an error. Unlike the generated executor, a bad argument is returned, not
// added to the response: the caller decides.
func Args(ctx context.Context, es graphql.ExecutableSchema, object string, field graphql.CollectedField) (map[string]any, error) {
	e, ok := es.(*executableSchema)
	if !ok {
		return nil, fmt.Errorf("args of %s.%s: not a schema of this package (%T)", object, field.Name, es)
	}
	oc := graphql.GetOperationContext(ctx)
	ec := newExecutionContext(oc, e, nil)
	raw := field.ArgumentMap(oc.Variables)
	switch object + "." + field.Name {
	case "Query.shipments":
		return ec.field_Query_shipments_args(ctx, raw)
	case "Query.shipment":
		return ec.field_Query_shipment_args(ctx, raw)
	case "Shipment.events":
		return ec.field_Shipment_events_args(ctx, raw)
	case "Shipment.files":
		return ec.field_Shipment_files_args(ctx, raw)
	}
	return nil, fmt.Errorf("args of %s.%s: not a planned field", object, field.Name)
}
