package graph

import (
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/ent/trackingevent"
)

// Lists read only the columns their selection needs: scanning a column costs
// allocations, and the JSON ones (a shipment's addresses and parcels, an
// event's location) a decoding, for every row of every page. The columns of
// a field are listed below; a selected field that is not listed (one added
// to the schema since) makes the list read every column, so a missing entry
// costs speed, never data. TestColumnMaps holds the maps to the schema.

// shipmentFieldColumns are the columns each field of Shipment reads, beyond
// shipmentColumnsAlways.
var shipmentFieldColumns = map[string][]string{
	"__typename":          nil,
	"id":                  nil,
	"reference":           {shipment.FieldReference},
	"status":              {shipment.FieldStatus},
	"carrier":             {shipment.FieldCarrier},
	"serviceLevel":        {shipment.FieldServiceLevel},
	"trackingNumber":      {shipment.FieldTrackingNumber},
	"origin":              {shipment.FieldOrigin},
	"destination":         {shipment.FieldDestination},
	"parcels":             {shipment.FieldParcels},
	"estimatedDeliveryAt": {shipment.FieldEstimatedDeliveryAt},
	"deliveredAt":         {shipment.FieldDeliveredAt},
	"cancelReason":        {shipment.FieldCancelReason},
	"version":             {shipment.FieldVersion},
	"createdAt":           {shipment.FieldCreatedAt},
	"updatedAt":           {shipment.FieldUpdatedAt},
	"createdBy":           {shipment.FieldCreatedBy},
	"updatedBy":           {shipment.FieldUpdatedBy},
	"customer":            nil, // customer_id: always read
	"events":              nil, // by the shipment's id
	"files":               nil, // by the shipment's id
	"nextStatuses":        {shipment.FieldStatus},
}

// shipmentColumnsAlways are read whatever the selection: the key, and the
// customer every scoping and prefetch goes by.
var shipmentColumnsAlways = []string{shipment.FieldID, shipment.FieldCustomerID}

// eventFieldColumns are the columns each field of TrackingEvent reads, beyond
// eventColumnsAlways.
var eventFieldColumns = map[string][]string{
	"__typename":  nil,
	"id":          nil,
	"status":      {trackingevent.FieldStatus},
	"occurredAt":  {trackingevent.FieldOccurredAt},
	"description": {trackingevent.FieldDescription},
	"location":    {trackingevent.FieldLocation},
	"source":      {trackingevent.FieldSource},
	"createdAt":   {trackingevent.FieldCreatedAt},
	"createdBy":   {trackingevent.FieldCreatedBy},
	"shipment":    nil, // shipment_id: always read
}

// eventColumnsAlways are read whatever the selection: the key, the parent the
// pages are grouped by and the commit order.
var eventColumnsAlways = []string{trackingevent.FieldID, trackingevent.FieldShipmentID, trackingevent.FieldSeq}

// columnsFor returns the columns that nodes selecting fields need (always,
// then those of each field in the order of all), or nil for every column:
// when a field is not in byField, or when the selection needs them all. The
// ordering columns a page needs are added by the pager (ent's applyOrder,
// loader.orderColumns).
func columnsFor(fields []graphql.CollectedField, always []string, byField map[string][]string, all []string) []string {
	need := make(map[string]bool, len(all))
	for _, c := range always {
		need[c] = true
	}
	for _, f := range fields {
		cols, known := byField[f.Name]
		if !known {
			return nil
		}
		for _, c := range cols {
			need[c] = true
		}
	}
	if len(need) >= len(all) {
		return nil
	}
	out := make([]string, 0, len(need))
	for _, c := range all {
		if need[c] {
			out = append(out, c)
		}
	}
	return out
}

// shipmentColumns returns the columns shipments selecting fields need, nil
// for all.
func shipmentColumns(fields []graphql.CollectedField) []string {
	return columnsFor(fields, shipmentColumnsAlways, shipmentFieldColumns, shipment.Columns)
}

// eventColumns returns the columns tracking events selecting fields need, nil
// for all.
func eventColumns(fields []graphql.CollectedField) []string {
	return columnsFor(fields, eventColumnsAlways, eventFieldColumns, trackingevent.Columns)
}

// columnsKey is columns as a loader key (loader.EdgeKey.Columns).
func columnsKey(columns []string) string {
	return strings.Join(slices.Clip(columns), ",")
}
