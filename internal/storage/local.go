package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// tmpDir is the directory, under the root, of objects being written. It is
// on the same filesystem as the objects, so completing one is a rename.
const tmpDir = ".tmp"

// pipeCopy's buffers: copyBuffers of copyChunk bytes.
const (
	copyChunk   = 256 << 10
	copyBuffers = 4
)

// Local stores objects as files under a directory.
type Local struct {
	root string
}

// NewLocal returns a store under root, creating it (mode 0700) if needed.
func NewLocal(root string) (*Local, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("local storage %s: %w", root, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("local storage %s: %w", root, err)
	}
	return &Local{root: abs}, nil
}

// Name implements Store.
func (l *Local) Name() string { return "local" }

// Root is the directory holding the objects.
func (l *Local) Root() string { return l.root }

func (l *Local) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if strings.HasPrefix(key, tmpDir+"/") || key == tmpDir {
		return "", fmt.Errorf("storage key %q: reserved", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put implements Store: the bytes go to a temporary file that is synced and
// renamed into place once complete.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, meta Meta) (err error) {
	dst, err := l.path(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(l.root, tmpDir), "put-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = pipeCopy(&flusher{f: tmp}, ctxReader{ctx: ctx, r: r}, meta.Observe); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: sync: %w", key, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("put %s: close: %w", key, err)
	}
	dir := filepath.Dir(dst)
	_, statErr := os.Stat(dir)
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	// The rename, and the directories just made, are durable only once
	// their directories are synced: a row must never outlive its object.
	for d := dir; ; d = filepath.Dir(d) {
		if err = syncDir(d); err != nil {
			_ = os.Remove(dst)
			return fmt.Errorf("put %s: %w", key, err)
		}
		if statErr == nil || len(d) <= len(l.root) {
			break
		}
	}
	return nil
}

// syncDir makes a directory's entries durable (a no-op on Windows, which
// cannot open a directory for syncing and journals its metadata).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Get implements Store; the reader is an *os.File.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	return f, Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List implements Store. Objects being written are not listed.
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.root, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == tmpDir {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(Info{Key: key, Size: info.Size(), ModTime: info.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", l.root, err)
	}
	return nil
}

// CleanTemp removes the temporary files of writes that a crash interrupted,
// older than before. It returns how many it removed.
func (l *Local) CleanTemp(before time.Time) (int, error) {
	return RemoveOlder(filepath.Join(l.root, tmpDir), before)
}

// RemoveOlder removes the files of dir last modified before before (the
// leftovers of interrupted writes) and returns how many it removed.
func RemoveOlder(dir string, before time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("clean %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}

// Ping implements Store: the root must be a writable directory.
func (l *Local) Ping(_ context.Context) error {
	f, err := os.CreateTemp(filepath.Join(l.root, tmpDir), "ping-*")
	if err != nil {
		return fmt.Errorf("local storage %s is not writable: %w", l.root, err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// pipeCopy copies src to dst with the reads on one goroutine and the writes
// (and observe, which hashes) on another, so that reading a request overlaps
// writing and hashing it. Reads are gathered into copyChunk-byte writes. It
// stops at the first error of either side.
func pipeCopy(dst io.Writer, src io.Reader, observe func([]byte)) error {
	free := make(chan []byte, copyBuffers)
	for range copyBuffers {
		free <- make([]byte, copyChunk)
	}
	full := make(chan []byte, copyBuffers)
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(full)
		for {
			var b []byte
			select {
			case <-stop: // a write failed: read no more
				return
			default:
			}
			select {
			case b = <-free:
			case <-stop:
				return
			}
			n, err := io.ReadFull(src, b)
			if n > 0 {
				full <- b[:n]
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return
			case err != nil:
				readErr = err
				return
			}
		}
	}()
	var writeErr error
	for b := range full {
		if writeErr == nil {
			if _, writeErr = dst.Write(b); writeErr != nil {
				close(stop)
			} else if observe != nil {
				observe(b)
			}
		}
		free <- b[:cap(b)]
	}
	if writeErr != nil {
		return writeErr
	}
	return readErr
}

// writebackEvery is how many written bytes start their writeback.
const writebackEvery = 8 << 20

// flusher writes to f and starts the writeback of every writebackEvery bytes.
type flusher struct {
	f            *os.File
	off, flushed int64
}

func (w *flusher) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writebackEvery {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
