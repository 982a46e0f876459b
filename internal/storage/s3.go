package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// partSize is the size of one part of a multipart upload: S3's minimum. A
// streamed upload holds one part in memory.
const partSize = 5 << 20

// S3Config configures an S3 bucket.
type S3Config struct {
	Bucket string
	Region string
	// AccessKeyID and SecretAccessKey, when empty, leave credentials to the
	// SDK's default chain (environment, shared files, IAM role, IRSA).
	AccessKeyID     string
	SecretAccessKey string
	// Endpoint is the URL of an S3-compatible store (empty: AWS).
	Endpoint string
	// PathStyle addresses the bucket in the path (bucket.host otherwise),
	// as most S3-compatible stores need.
	PathStyle bool
	// PublicEndpoint, when set, is the endpoint presigned links name (the
	// store as clients reach it), while Endpoint is how the app reaches it.
	PublicEndpoint string
	// Timeout bounds each request but uploads and downloads of bodies.
	Timeout time.Duration
}

// S3 stores objects in a bucket.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	timeout time.Duration
}

// NewS3 returns a store over cfg's bucket. It does not contact the bucket;
// Ping does.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 storage: load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Checksums only where S3 requires them: S3-compatible stores do not
		// all accept the CRC32 trailers the SDK adds by default.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	presignClient := client
	if cfg.PublicEndpoint != "" {
		presignClient = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(cfg.PublicEndpoint)
			o.UsePathStyle = cfg.PathStyle
		})
	}
	return &S3{client: client, presign: s3.NewPresignClient(presignClient), bucket: cfg.Bucket, timeout: timeout}, nil
}

// Name implements Store.
func (s *S3) Name() string { return "s3" }

// Put implements Store. An object under partSize goes in one PUT; a larger
// one in a multipart upload of partSize parts sent one after the other from
// one reused buffer (so an upload holds one part in memory, whatever its
// size), aborted on any error so that nothing is left.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, meta Meta) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	bp := partPool.Get().(*[]byte)
	defer partPool.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	if meta.Observe != nil && n > 0 {
		meta.Observe(buf[:n])
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)), ContentType: optional(meta.ContentType),
			ContentDisposition: optional(meta.ContentDisposition),
		})
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("put %s: %w", key, err)
	}
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		ContentType: optional(meta.ContentType), ContentDisposition: optional(meta.ContentDisposition),
	})
	if err != nil {
		return fmt.Errorf("put %s: start multipart upload: %w", key, err)
	}
	if err := s.uploadParts(ctx, key, up.UploadId, buf, r, meta.Observe); err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: up.UploadId,
		}); aerr != nil {
			return fmt.Errorf("put %s: %w (and abort: %v)", key, err, aerr)
		}
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// uploadParts sends buf (a full first part) and the rest of r as parts,
// then completes the upload.
func (s *S3) uploadParts(ctx context.Context, key string, id *string, buf []byte, r io.Reader, observe func([]byte)) error {
	var parts []types.CompletedPart
	n := len(buf)
	for num := int32(1); ; num++ {
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: id,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		var rerr error
		n, rerr = io.ReadFull(r, buf)
		if observe != nil && n > 0 {
			observe(buf[:n])
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return rerr
		}
		if num == maxParts {
			return fmt.Errorf("more than %d parts of %d bytes", maxParts, partSize)
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// partPool recycles the part buffers of uploads: each upload holds one.
var partPool = sync.Pool{New: func() any { b := make([]byte, partSize); return &b }}

// maxParts is S3's limit of parts in one upload (50 GB of 5 MiB parts).
const maxParts = 10000

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil, Info{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if err := fn(Info{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ping implements Store: the bucket must exist and the credentials reach it.
func (s *S3) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("s3 bucket %s: %w", s.bucket, err)
	}
	return nil
}

// PresignGet implements Presigner: a GET link that answers with meta's
// content type and disposition.
func (s *S3) PresignGet(ctx context.Context, key string, expires time.Duration, meta Meta) (string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if meta.ContentType != "" {
		in.ResponseContentType = aws.String(meta.ContentType)
	}
	if meta.ContentDisposition != "" {
		in.ResponseContentDisposition = aws.String(meta.ContentDisposition)
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// CreateBucket creates the bucket if it does not exist (tests and the
// local S3 server of make services).
func (s *S3) CreateBucket(ctx context.Context) error {
	_, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", s.bucket, err)
	}
	return nil
}

// DeleteBucket deletes every object of the bucket, then the bucket (tests).
func (s *S3) DeleteBucket(ctx context.Context) error {
	err := s.List(ctx, "", func(o Info) error { return s.Delete(ctx, o.Key) })
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("delete bucket %s: %w", s.bucket, err)
	}
	return nil
}

// PendingUploads counts the multipart uploads begun and neither completed
// nor aborted under prefix (tests: a failed Put must leave none).
func (s *S3) PendingUploads(ctx context.Context, prefix string) (int, error) {
	out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		return 0, fmt.Errorf("list multipart uploads: %w", err)
	}
	return len(out.Uploads), nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		var ae smithy.APIError
		return !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket"
	}
	return false
}
