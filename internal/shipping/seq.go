package shipping

import (
	"context"
	"fmt"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/sequence"
)

// SeqTrackingEvents names the sequence of tracking events.
const SeqTrackingEvents = "tracking_events"

// NextSeq increments sequence name and returns its new value. It must run in
// a transaction (client is tx.Client()), as that transaction's last write
// before the commit: the sequence's row stays locked until then, so values are
// handed out in commit order and a rolled back value is handed out again.
func NextSeq(ctx context.Context, client *ent.Client, name string) (int64, error) {
	n, err := client.Sequence.Update().Where(sequence.ID(name)).AddValue(1).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("increment sequence %s: %w", name, err)
	}
	if n == 0 {
		// The migration that created the table created the row.
		return 0, fmt.Errorf("sequence %s has no row: the migrations were not applied", name)
	}
	row, err := client.Sequence.Get(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read sequence %s: %w", name, err)
	}
	return row.Value, nil
}
