package files

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/ent/privacy"
	"github.com/shipmentapp/shipmentapp/internal/storage"
)

// sweepBatch is how many keys one database lookup checks.
const sweepBatch = 500

// SweepResult counts what a sweep did.
type SweepResult struct {
	// Checked objects were older than the grace period.
	Checked int
	// Deleted objects had no row.
	Deleted int
	// TempFiles are abandoned partial writes of the local store.
	TempFiles int
	// Failed objects could not be deleted (logged; the next sweep retries),
	// or have a key this service never writes (left alone, logged).
	Failed int
}

// tempCleaner is a store with abandoned partial writes to clean (local disk).
type tempCleaner interface {
	CleanTemp(before time.Time) (int, error)
}

// Sweep deletes the objects under the key prefix that are older than grace and
// that no file row references: what a crash between the object write and
// the commit, or a failed delete, left behind. grace must exceed the
// longest upload, so an object whose row is about to be written is spared.
func (s *Service) Sweep(ctx context.Context, grace time.Duration) (SweepResult, error) {
	ctx = privacy.DecisionContext(ctx, privacy.Allow)
	before := s.opts.Now().Add(-grace)
	var res SweepResult
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		known, err := s.client.File.Query().Where(file.StorageKeyIn(batch...)).Select(file.FieldStorageKey).Strings(ctx)
		if err != nil {
			return fmt.Errorf("look up storage keys: %w", err)
		}
		have := make(map[string]bool, len(known))
		for _, k := range known {
			have[k] = true
		}
		for _, k := range batch {
			if have[k] {
				continue
			}
			// One object that cannot go must not stop the others.
			if err := s.store.Delete(ctx, k); err != nil {
				res.Failed++
				s.opts.Logger.WarnContext(ctx, "sweep: delete an object without a file row", slog.String("key", k), slog.String("error", err.Error()))
				continue
			}
			res.Deleted++
			s.opts.Logger.InfoContext(ctx, "swept an object without a file row", slog.String("key", k))
		}
		batch = batch[:0]
		return nil
	}
	err := s.store.List(ctx, s.opts.KeyPrefix, func(o storage.Info) error {
		if !o.ModTime.Before(before) {
			return nil
		}
		if storage.CheckKey(o.Key) != nil {
			// Not a key of ours (a stray file on a local disk, say).
			res.Failed++
			s.opts.Logger.WarnContext(ctx, "sweep: an object with a key this service never writes; left alone", slog.String("key", o.Key))
			return nil
		}
		res.Checked++
		batch = append(batch, o.Key)
		if len(batch) >= sweepBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("sweep files: %w", err)
	}
	if tc, ok := s.store.(tempCleaner); ok {
		n, err := tc.CleanTemp(before)
		res.TempFiles = n
		if err != nil {
			return res, fmt.Errorf("sweep files: %w", err)
		}
	}
	return res, nil
}
