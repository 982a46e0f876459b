package plan

import (
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// operation is the plan of a query operation: its root fields.
type operation struct {
	root []*node
	size atomic.Int64 // the length of its last answer
}

// node is a field of the plan: where its value goes in the answer and how to
// compute it.
type node struct {
	field    graphql.CollectedField
	key      []byte // the response key, quoted as gqlgen quotes it, and ':'
	id       fieldID
	children []*node // the selection of the field's object type, collected
}

// fieldID names a field the plan can write.
type fieldID uint8

const (
	fTypename fieldID = iota

	qShipments
	qShipment

	connEdges // ShipmentConnection and TrackingEventConnection
	connPageInfo
	connTotalCount

	edgeNode // ShipmentEdge and TrackingEventEdge
	edgeCursor

	piHasNextPage
	piHasPreviousPage
	piStartCursor
	piEndCursor

	sID
	sReference
	sStatus
	sCarrier
	sServiceLevel
	sTrackingNumber
	sOrigin
	sDestination
	sParcels
	sEstimatedDeliveryAt
	sDeliveredAt
	sCancelReason
	sVersion
	sCreatedAt
	sUpdatedAt
	sCreatedBy
	sUpdatedBy
	sCustomer
	sEvents
	sFiles
	sNextStatuses

	aName
	aCompany
	aLine1
	aLine2
	aCity
	aRegion
	aPostalCode
	aCountryCode
	aPhone
	aEmail

	pWeightGrams
	pLengthMm
	pWidthMm
	pHeightMm

	lCity
	lRegion
	lPostalCode
	lCountryCode

	eID
	eStatus
	eOccurredAt
	eDescription
	eLocation
	eSource
	eCreatedAt
	eCreatedBy

	fID
	fKind
	fName
	fContentType
	fSize
	fSha256
	fUploadedAt
	fUploadedBy

	cID
	cName
	cAlias
	cCode
	cAddress
	cPostalCode
	cCity
	cPhone
	cEmail
	cURL
	cVatNumber
	cCreatedAt
	cUpdatedAt
	cCountry

	coCode
	coCodeIso
	coLabel
)

// field is a field of an object type that the plan can write: its ID and,
// for a field of an object type, that type's name.
type field struct {
	id    fieldID
	child string
}

// objectType is an object type of the schema as the plan knows it: the type
// names its selections are collected for (gqlgen's implementors list) and
// the fields it can write. A field not listed sends the document to the
// generic executor.
type objectType struct {
	satisfies []string
	fields    map[string]field
}

var types = map[string]objectType{
	"Query": {[]string{"Query"}, map[string]field{
		"shipments": {qShipments, "ShipmentConnection"},
		"shipment":  {qShipment, "Shipment"},
	}},
	"ShipmentConnection": {[]string{"ShipmentConnection"}, map[string]field{
		"edges":      {connEdges, "ShipmentEdge"},
		"pageInfo":   {connPageInfo, "PageInfo"},
		"totalCount": {connTotalCount, ""},
	}},
	"ShipmentEdge": {[]string{"ShipmentEdge"}, map[string]field{
		"node":   {edgeNode, "Shipment"},
		"cursor": {edgeCursor, ""},
	}},
	"TrackingEventConnection": {[]string{"TrackingEventConnection"}, map[string]field{
		"edges":      {connEdges, "TrackingEventEdge"},
		"pageInfo":   {connPageInfo, "PageInfo"},
		"totalCount": {connTotalCount, ""},
	}},
	"TrackingEventEdge": {[]string{"TrackingEventEdge"}, map[string]field{
		"node":   {edgeNode, "TrackingEvent"},
		"cursor": {edgeCursor, ""},
	}},
	"PageInfo": {[]string{"PageInfo"}, map[string]field{
		"hasNextPage":     {piHasNextPage, ""},
		"hasPreviousPage": {piHasPreviousPage, ""},
		"startCursor":     {piStartCursor, ""},
		"endCursor":       {piEndCursor, ""},
	}},
	"Shipment": {[]string{"Shipment", "Node"}, map[string]field{
		"id":                  {sID, ""},
		"reference":           {sReference, ""},
		"status":              {sStatus, ""},
		"carrier":             {sCarrier, ""},
		"serviceLevel":        {sServiceLevel, ""},
		"trackingNumber":      {sTrackingNumber, ""},
		"origin":              {sOrigin, "Address"},
		"destination":         {sDestination, "Address"},
		"parcels":             {sParcels, "Parcel"},
		"estimatedDeliveryAt": {sEstimatedDeliveryAt, ""},
		"deliveredAt":         {sDeliveredAt, ""},
		"cancelReason":        {sCancelReason, ""},
		"version":             {sVersion, ""},
		"createdAt":           {sCreatedAt, ""},
		"updatedAt":           {sUpdatedAt, ""},
		"createdBy":           {sCreatedBy, ""},
		"updatedBy":           {sUpdatedBy, ""},
		"customer":            {sCustomer, "Customer"},
		"events":              {sEvents, "TrackingEventConnection"},
		"files":               {sFiles, "File"},
		"nextStatuses":        {sNextStatuses, ""},
	}},
	"Address": {[]string{"Address"}, map[string]field{
		"name":        {aName, ""},
		"company":     {aCompany, ""},
		"line1":       {aLine1, ""},
		"line2":       {aLine2, ""},
		"city":        {aCity, ""},
		"region":      {aRegion, ""},
		"postalCode":  {aPostalCode, ""},
		"countryCode": {aCountryCode, ""},
		"phone":       {aPhone, ""},
		"email":       {aEmail, ""},
	}},
	"Parcel": {[]string{"Parcel"}, map[string]field{
		"weightGrams": {pWeightGrams, ""},
		"lengthMm":    {pLengthMm, ""},
		"widthMm":     {pWidthMm, ""},
		"heightMm":    {pHeightMm, ""},
	}},
	"Location": {[]string{"Location"}, map[string]field{
		"city":        {lCity, ""},
		"region":      {lRegion, ""},
		"postalCode":  {lPostalCode, ""},
		"countryCode": {lCountryCode, ""},
	}},
	"TrackingEvent": {[]string{"TrackingEvent", "Node"}, map[string]field{
		"id":          {eID, ""},
		"status":      {eStatus, ""},
		"occurredAt":  {eOccurredAt, ""},
		"description": {eDescription, ""},
		"location":    {eLocation, "Location"},
		"source":      {eSource, ""},
		"createdAt":   {eCreatedAt, ""},
		"createdBy":   {eCreatedBy, ""},
	}},
	"File": {[]string{"File", "Node"}, map[string]field{
		"id":          {fID, ""},
		"kind":        {fKind, ""},
		"name":        {fName, ""},
		"contentType": {fContentType, ""},
		"size":        {fSize, ""},
		"sha256":      {fSha256, ""},
		"uploadedAt":  {fUploadedAt, ""},
		"uploadedBy":  {fUploadedBy, ""},
	}},
	"Customer": {[]string{"Customer", "Node"}, map[string]field{
		"id":         {cID, ""},
		"name":       {cName, ""},
		"alias":      {cAlias, ""},
		"code":       {cCode, ""},
		"address":    {cAddress, ""},
		"postalCode": {cPostalCode, ""},
		"city":       {cCity, ""},
		"phone":      {cPhone, ""},
		"email":      {cEmail, ""},
		"url":        {cURL, ""},
		"vatNumber":  {cVatNumber, ""},
		"createdAt":  {cCreatedAt, ""},
		"updatedAt":  {cUpdatedAt, ""},
		"country":    {cCountry, "Country"},
	}},
	"Country": {[]string{"Country"}, map[string]field{
		"code":    {coCode, ""},
		"codeIso": {coCodeIso, ""},
		"label":   {coLabel, ""},
	}},
}

// compile plans oc's operation, or returns nil if the plan does not cover it.
func compile(oc *graphql.OperationContext) *operation {
	root, ok := collect(oc, "Query", oc.Operation.SelectionSet)
	if !ok {
		return nil
	}
	return &operation{root: root}
}

// collect plans the selection sel of an object of type typ, with gqlgen's
// own field collection: fragments, merging and @skip/@include as the generic
// executor sees them for this request's variables.
func collect(oc *graphql.OperationContext, typ string, sel ast.SelectionSet) ([]*node, bool) {
	t, ok := types[typ]
	if !ok {
		return nil, false
	}
	fields := graphql.CollectFields(oc, sel, t.satisfies)
	nodes := make([]*node, 0, len(fields))
	for _, f := range fields {
		if len(f.Deferrables) > 0 {
			return nil, false
		}
		n := &node{field: f, key: quoteKey(f.Alias)}
		if f.Name == "__typename" {
			n.id = fTypename
			nodes = append(nodes, n)
			continue
		}
		spec, ok := t.fields[f.Name]
		if !ok {
			return nil, false
		}
		n.id = spec.id
		if spec.child != "" {
			if n.children, ok = collect(oc, spec.child, f.Selections); !ok {
				return nil, false
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, true
}

func quoteKey(key string) []byte {
	var b bytesWriter
	graphql.MarshalString(key).MarshalGQL(&b)
	return append(b, ':')
}

// bytesWriter is an io.Writer appending to a byte slice.
type bytesWriter []byte

func (b *bytesWriter) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}
