// Package storage keeps the bytes of files in an object store: a directory of
// the local disk (the embedded default) or an S3 bucket (any S3-compatible
// store). Both stream: an object is written from a reader through a bounded
// buffer, and becomes visible under its key only once it is complete.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) for a key with no object.
var ErrNotFound = errors.New("object not found")

// Meta describes an object being written.
type Meta struct {
	// ContentType and ContentDisposition are stored with the object where
	// the store keeps metadata (S3), and served with it.
	ContentType        string
	ContentDisposition string
	// Observe, if set, is called with the object's bytes in order as they
	// are stored, off the goroutine that reads them (a hash is computed
	// there, beside the read).
	Observe func(p []byte)
}

// Info is an object found by List.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is an object store.
type Store interface {
	// Put writes r to key. The object appears only when Put returns nil;
	// on error nothing is left under key.
	Put(ctx context.Context, key string, r io.Reader, meta Meta) error
	// Get opens the object under key (ErrNotFound if none). The local store
	// returns an io.ReadSeekCloser, which serves ranges.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Delete removes the object under key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Ping checks that the store can be reached and written.
	Ping(ctx context.Context) error
	// Name is "local" or "s3", for logs and metrics.
	Name() string
}

// Presigner is a Store that signs its own download links (S3).
type Presigner interface {
	PresignGet(ctx context.Context, key string, expires time.Duration, meta Meta) (string, error)
}

// CheckKey refuses keys that could leave the store's root or that object
// stores treat specially: keys are made of lower-case letters, digits, '-',
// '_', '.' and '/'-separated segments that are not empty, "." or "..".
func CheckKey(key string) error {
	if key == "" || len(key) > 255 {
		return fmt.Errorf("storage key %q: must be 1 to 255 bytes", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("storage key %q: empty, . or .. segment", key)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return fmt.Errorf("storage key %q: character %q not allowed", key, c)
			}
		}
	}
	return nil
}
