package shipmentapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/Khan/genqlient/graphql"
)

// Paging says how a walk through a connection went.
type Paging struct {
	// TotalCount is the connection's totalCount on the first page.
	TotalCount int
	// Pages is how many requests it took.
	Pages int
	// Seen is how many shipments were passed to the callback.
	Seen int
}

// ForEachShipment calls fn with every shipment matching where (nil: all the
// viewer may see), oldest first, reading pages of pageSize (1 to 100) by
// cursor until the last. It stops at fn's first error, and returns it.
func ForEachShipment(ctx context.Context, client graphql.Client, where *ShipmentWhereInput, pageSize int, fn func(*ShipmentSummary) error) (Paging, error) {
	var p Paging
	if pageSize < 1 || pageSize > 100 {
		return p, fmt.Errorf("shipmentapi: page size %d: must be 1 to 100", pageSize)
	}
	var after *string
	for {
		resp, err := ListShipments(ctx, client, where, pageSize, after)
		if err != nil {
			return p, fmt.Errorf("list shipments (page %d): %w", p.Pages+1, err)
		}
		p.Pages++
		conn := resp.Shipments
		if p.Pages == 1 {
			p.TotalCount = conn.TotalCount
		}
		for _, edge := range conn.Edges {
			if edge == nil || edge.Node == nil {
				continue
			}
			p.Seen++
			if err := fn(edge.Node); err != nil {
				return p, err
			}
		}
		if !conn.PageInfo.HasNextPage {
			return p, nil
		}
		next := conn.PageInfo.EndCursor
		if next == nil || (after != nil && *next == *after) {
			return p, errors.New("shipmentapi: the server said there is a next page but gave no new cursor")
		}
		after = next
	}
}
