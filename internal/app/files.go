package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/config"
	"github.com/shipmentapp/shipmentapp/internal/files"
	"github.com/shipmentapp/shipmentapp/internal/storage"
)

// OpenStorage opens the file store of FILESYSTEM_DISK.
func OpenStorage(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	if cfg.Files.Disk == "s3" {
		return storage.NewS3(ctx, storage.S3Config{
			Bucket: cfg.AWS.Bucket, Region: cfg.AWS.Region,
			AccessKeyID: cfg.AWS.AccessKeyID, SecretAccessKey: cfg.AWS.SecretAccessKey,
			Endpoint: cfg.AWS.Endpoint, PathStyle: cfg.AWS.PathStyle, PublicEndpoint: cfg.AWS.URL,
		})
	}
	return storage.NewLocal(filepath.Join(cfg.DataDir, "files"))
}

// FilesOptions are the files service's options from cfg; the signing key
// of development, when none is configured, is kept in APP_DATA_DIR.
func FilesOptions(cfg *config.Config, logger *slog.Logger) (files.Options, error) {
	key := []byte(cfg.Files.SigningKey)
	if len(key) == 0 && cfg.Files.Disk == "local" {
		var err error
		if key, err = devSigningKey(cfg.DataDir); err != nil {
			return files.Options{}, err
		}
	}
	return files.Options{
		MaxFileBytes:    cfg.Files.MaxBytes,
		MaxURLExpiry:    time.Hour,
		BaseURL:         cfg.URL,
		SigningKey:      key,
		DownloadTimeout: cfg.Files.UploadTimeout,
		KeyPrefix:       cfg.Files.KeyPrefix,
		Logger:          logger,
	}, nil
}

// devSigningKey reads the development signing key from dir, creating it on
// first use, so local links survive restarts.
func devSigningKey(dir string) ([]byte, error) { return devKey(dir, "file-signing.key") }

// devKey reads a development key (64 hex characters) from file name under
// dir, creating it on the first start.
func devKey(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	key := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(key), nil
}

// UploadsInProgress is the number of upload requests this instance is
// receiving (at most FILE_MAX_CONCURRENT_UPLOADS).
func (a *App) UploadsInProgress() int { return len(a.uploadSlots) }

// spoolDir returns the directory of spooled upload parts, under
// APP_DATA_DIR on the same disk as local files (not a tmpfs /tmp), after
// removing what a crash left there.
func spoolDir(cfg *config.Config) (string, error) {
	dir := filepath.Join(cfg.DataDir, "tmp", "uploads")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	cleanSpool(dir, cfg.Files.UploadTimeout)
	return dir, nil
}

// cleanSpool removes the spooled parts older than the longest upload: those
// of this process are removed when their request ends, so these are a
// crash's (or another process's that died).
func cleanSpool(dir string, olderThan time.Duration) {
	_, _ = storage.RemoveOlder(dir, time.Now().Add(-olderThan))
}

// startSweeper removes, every FILE_SWEEP_INTERVAL, the stored objects that no
// file row references (every instance sweeps; deletes are idempotent).
func (a *App) startSweeper(ctx context.Context) {
	interval := a.Config.Files.SweepInterval
	if interval <= 0 {
		return
	}
	a.goBackground(ctx, func(bg context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				cleanSpool(a.spoolDir, a.Config.Files.UploadTimeout)
				res, err := a.Files.Sweep(bg, a.Config.Files.SweepGrace)
				if err != nil && bg.Err() == nil {
					a.Logger.Warn("sweep files", slog.String("error", err.Error()))
					continue
				}
				if res.Deleted > 0 || res.TempFiles > 0 || res.Failed > 0 {
					a.Logger.Info("swept files", slog.Int("checked", res.Checked), slog.Int("deleted", res.Deleted),
						slog.Int("temp_files", res.TempFiles), slog.Int("failed", res.Failed))
				}
			}
		}
	})
}
