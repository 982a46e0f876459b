// Package files owns the documents of shipments: it checks an upload
// (scope, size, sniffed type, name), streams it to the object store while
// hashing it, records it, deletes it, signs download links, serves local
// downloads, and sweeps objects that no row references.
//
// Consistency: an object is written under a fresh unique key first; the rows
// are inserted in one transaction afterwards. If anything fails before the
// commit, the objects written are deleted; an object left behind by a crash
// has no row and the sweeper removes it once it is older than a grace period.
package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/file"
	"github.com/shipmentapp/shipmentapp/ent/shipment"
	"github.com/shipmentapp/shipmentapp/internal/apperr"
	"github.com/shipmentapp/shipmentapp/internal/storage"
	"github.com/shipmentapp/shipmentapp/internal/upload"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// KeyPrefix is the default prefix of the object keys this service writes
// (FILE_KEY_PREFIX); the sweeper looks only under the prefix, so a bucket
// shared with other applications, or with another deployment using another
// prefix, is safe.
const KeyPrefix = "files/"

// Options configure a Service.
type Options struct {
	// MaxFileBytes bounds one file.
	MaxFileBytes int64
	// MaxURLExpiry bounds File.url's expiresIn.
	MaxURLExpiry time.Duration
	// BaseURL is the public URL of the API, for local download links.
	BaseURL string
	// SigningKey signs local download links.
	SigningKey []byte
	// CleanupTimeout bounds deleting objects after a failure.
	CleanupTimeout time.Duration
	// DownloadTimeout bounds a local download (instead of HTTP_WRITE_TIMEOUT).
	DownloadTimeout time.Duration
	// KeyPrefix prefixes every object key (KeyPrefix by default).
	KeyPrefix string
	Logger    *slog.Logger
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
}

// Service manages files. It is safe for concurrent use.
type Service struct {
	client *ent.Client
	store  storage.Store
	opts   Options
}

// minSigningKey is the shortest key that may sign local download links.
const minSigningKey = 32

// New returns a Service storing bytes in store and rows through client. A
// store that does not presign its own links (local disk) needs a signing key
// of at least 32 bytes for the links this service serves.
func New(client *ent.Client, store storage.Store, opts Options) (*Service, error) {
	if _, ok := store.(storage.Presigner); !ok && len(opts.SigningKey) < minSigningKey {
		return nil, fmt.Errorf("files: a %s store needs a signing key of at least %d bytes for its download links", store.Name(), minSigningKey)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CleanupTimeout <= 0 {
		opts.CleanupTimeout = 30 * time.Second
	}
	if opts.MaxURLExpiry <= 0 {
		opts.MaxURLExpiry = time.Hour
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = KeyPrefix
	}
	if opts.DownloadTimeout <= 0 {
		opts.DownloadTimeout = 10 * time.Minute
	}
	return &Service{client: client, store: store, opts: opts}, nil
}

// Store is the object store of the service.
func (s *Service) Store() storage.Store { return s.store }

// Input is one file to upload.
type Input struct {
	Kind   file.Kind
	Upload upload.Upload
	// Field is the argument path errors name ("file", "files.1.file").
	Field string
}

// stored is an object written for an input, not yet recorded.
type stored struct {
	key, name, contentType, sha256 string
	size                           int64
	kind                           file.Kind
}

// Upload stores every input for the shipment and records them in one
// transaction: all of them, or none (and no object left).
func (s *Service) Upload(ctx context.Context, shipmentID int, inputs []Input) (_ []*ent.File, err error) {
	if len(inputs) == 0 {
		return nil, apperr.Invalid("files", "give at least one file")
	}
	for _, in := range inputs {
		if file.KindValidator(in.Kind) != nil {
			return nil, apperr.Invalid(in.Field, "unknown file kind %q", in.Kind)
		}
	}
	// The shipment must be one the viewer sees: another partner's shipment
	// is not found, exactly like one that does not exist.
	ok, err := s.client.Shipment.Query().Where(shipment.ID(shipmentID)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("check shipment %d: %w", shipmentID, err)
	}
	if !ok {
		return nil, &apperr.Error{Code: apperr.NotFound, Field: "shipmentId", Message: "no shipment with this ID"}
	}
	var objects []stored
	defer func() {
		// A failed commit may have written the rows all the same (the
		// connection was lost after COMMIT was sent): their objects stay,
		// and the sweeper removes them if no row names them.
		if err != nil && !errors.Is(err, errCommit) {
			keys := make([]string, len(objects))
			for i, o := range objects {
				keys[i] = o.key
			}
			s.deleteObjects(ctx, keys...)
		}
	}()
	for _, in := range inputs {
		obj, err := s.put(ctx, in)
		if err != nil {
			return nil, err
		}
		objects = append(objects, obj)
	}
	return s.record(ctx, shipmentID, objects)
}

// put streams one upload to a new object, sniffing, hashing and counting it.
func (s *Service) put(ctx context.Context, in Input) (stored, error) {
	part, err := in.Upload.Open(ctx)
	if err != nil {
		return stored{}, s.readError(in.Field, err)
	}
	defer part.Close()
	obj := stored{kind: in.Kind, name: SanitizeName(part.Filename)}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return stored{}, s.readError(in.Field, err)
	}
	head = head[:n]
	if n == 0 {
		return stored{}, apperr.Invalid(in.Field, "the file %q is empty", obj.name)
	}
	obj.contentType = Detect(head, obj.name)
	if !Allowed(in.Kind, obj.contentType) {
		return stored{}, &apperr.Error{
			Code: apperr.UnsupportedFileType, Field: in.Field,
			Message: fmt.Sprintf("a %s file must be %s; %q looks like %s",
				in.Kind, strings.Join(AllowedTypes(in.Kind), ", "), obj.name, obj.contentType),
			Extensions: map[string]any{"contentType": obj.contentType, "allowed": AllowedTypes(in.Kind)},
		}
	}
	key, err := newKey(s.opts.KeyPrefix, s.opts.Now())
	if err != nil {
		return stored{}, err
	}
	obj.key = key
	sum := sha256.New()
	body := &meter{r: io.MultiReader(bytes.NewReader(head), part), max: s.opts.MaxFileBytes}
	err = s.store.Put(ctx, key, body, storage.Meta{ContentType: obj.contentType, ContentDisposition: Disposition(obj.name), Observe: func(p []byte) { sum.Write(p) }})
	if err == nil && s.opts.MaxFileBytes > 0 && body.n > s.opts.MaxFileBytes {
		// The store took more than the limit after all: never keep it.
		s.deleteObjects(ctx, key)
		err = errTooLarge
	}
	switch {
	case errors.Is(err, errTooLarge):
		return stored{}, &apperr.Error{
			Code: apperr.FileTooLarge, Field: in.Field,
			Message:    fmt.Sprintf("the file %q exceeds %d bytes", obj.name, s.opts.MaxFileBytes),
			Extensions: map[string]any{"maxBytes": s.opts.MaxFileBytes},
		}
	case err != nil && body.readErr != nil:
		return stored{}, s.readError(in.Field, body.readErr)
	case err != nil:
		if ctx.Err() != nil {
			return stored{}, fmt.Errorf("store %q: %w", obj.name, ctx.Err())
		}
		return stored{}, &apperr.Error{Code: apperr.StorageUnavailable, Field: in.Field,
			Message: "the file store is unavailable; nothing was stored, try again later", Err: err}
	}
	obj.size, obj.sha256 = body.n, hex.EncodeToString(sum.Sum(nil))
	return obj, nil
}

// readError explains a failure to read an upload from the request.
func (s *Service) readError(field string, err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, upload.ErrMissing):
		return apperr.Invalid(field, "the request has no file part for %s (check the multipart map)", field)
	case errors.Is(err, upload.ErrReused):
		return apperr.Invalid(field, "%v", err)
	case errors.As(err, &tooBig):
		return &apperr.Error{Code: apperr.RequestTooLarge, Field: field, Message: "the request body exceeds the upload limit", Err: err}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &apperr.Error{Code: apperr.Timeout, Field: field, Message: "the file did not arrive within the upload time limit", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("read upload %s: %w", field, err)
	}
	var re *upload.ReadError
	if errors.As(err, &re) {
		return &apperr.Error{Code: apperr.BadUserInput, Field: field, Message: "the file could not be read from the request: the multipart body is malformed or was cut off", Err: err}
	}
	return fmt.Errorf("read upload %s: %w", field, err)
}

// errCommit marks a failed commit of file rows, whose outcome is unknown.
var errCommit = errors.New("commit files")

// record inserts the rows of objects in one transaction.
func (s *Service) record(ctx context.Context, shipmentID int, objects []stored) ([]*ent.File, error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	actor := viewer.Actor(ctx)
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	out := make([]*ent.File, 0, len(objects))
	for _, o := range objects {
		f, err := tx.File.Create().
			SetShipmentID(shipmentID).
			SetKind(o.kind).
			SetName(o.name).
			SetContentType(o.contentType).
			SetSize(o.size).
			SetSha256(o.sha256).
			SetStorageKey(o.key).
			SetUploadedAt(now).
			SetUploadedBy(actor).
			Save(ctx)
		if err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("record file %q: %w", o.name, err)
		}
		out = append(out, f)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%w: %w", errCommit, err)
	}
	return out, nil
}

// deleteObjects removes the objects of keys (of a failed upload, of a
// deleted file) even when ctx has ended; what fails here has no row, so the
// sweeper takes it.
func (s *Service) deleteObjects(ctx context.Context, keys ...string) {
	if len(keys) == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.CleanupTimeout)
	defer cancel()
	for _, k := range keys {
		if err := s.store.Delete(dctx, k); err != nil {
			s.opts.Logger.WarnContext(ctx, "delete an object without a row; the sweeper will", slog.String("key", k), slog.String("error", err.Error()))
		}
	}
}

// Delete removes a file the viewer sees: the row, then the object. An
// object that cannot be deleted now has no row, so the sweeper removes it.
func (s *Service) Delete(ctx context.Context, id int) error {
	f, err := s.client.File.Get(ctx, id)
	if ent.IsNotFound(err) {
		return &apperr.Error{Code: apperr.NotFound, Field: "id", Message: "no file with this ID"}
	}
	if err != nil {
		return fmt.Errorf("load file %d: %w", id, err)
	}
	if err := s.client.File.DeleteOne(f).Exec(ctx); err != nil {
		if ent.IsNotFound(err) {
			return &apperr.Error{Code: apperr.NotFound, Field: "id", Message: "no file with this ID"}
		}
		return fmt.Errorf("delete file %d: %w", id, err)
	}
	s.deleteObjects(ctx, f.StorageKey)
	return nil
}

// Disposition is the Content-Disposition of a download of name: an
// attachment, with the name quoted or RFC 2231-encoded as needed.
func Disposition(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// newKey returns a fresh object key: <prefix>YYYY/MM/DD/<128 random bits>.
func newKey(prefix string, now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate storage key: %w", err)
	}
	return prefix + now.UTC().Format("2006/01/02") + "/" + hex.EncodeToString(b[:]), nil
}

// errTooLarge is returned by a meter past its limit.
var errTooLarge = errors.New("file too large")

// meter counts what is read through it and fails past max bytes (so the
// store aborts the object). The store hashes what it writes (Meta.Observe).
type meter struct {
	r       io.Reader
	n, max  int64
	readErr error
}

func (m *meter) Read(p []byte) (int, error) {
	// Sticky: a reader that drops the error of the read that crossed the
	// limit (io.ReadFull filling its buffer) gets it again.
	if m.max > 0 && m.n > m.max {
		return 0, errTooLarge
	}
	n, err := m.r.Read(p)
	if n > 0 {
		m.n += int64(n)
		if m.max > 0 && m.n > m.max {
			return n, errTooLarge
		}
	}
	if err != nil && err != io.EOF {
		m.readErr = err
	}
	return n, err
}
