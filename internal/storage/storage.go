// Package storage reads batch inputs from and writes outputs to object
// storage, s3:// and gs:// URLs, through gocloud.dev/blob; file:// URLs are
// plain local paths. Credentials come from each cloud's own chain (for S3
// the AWS SDK's: AWS_ACCESS_KEY_ID and friends, ~/.aws, instance and pod
// roles; for GCS Application Default Credentials), never from flags. The
// URL's query goes to the driver: s3://bucket/prefix?region=eu-west-1, or
// ?endpoint=http://host:9000&use_path_style=true for MinIO and the like.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob" // s3://
	"gocloud.dev/gcerrors"
	"gocloud.dev/gcp"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/safeio"
)

// IsURL reports whether s names object storage rather than a local path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "s3://") || strings.HasPrefix(s, "gs://")
}

// LocalPath turns a file:// URL into its path; any other string is returned
// as it is. file:// gets no driver of its own, so that local outputs keep
// their atomic, no-clobber writing.
func LocalPath(s string) (string, error) {
	if !strings.HasPrefix(s, "file://") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("%s: a file:// URL names a local path (file:///abs/path)", s)
	}
	return u.Path, nil
}

// location is a parsed object storage URL.
type location struct {
	// Bucket is the URL that opens the bucket (scheme, bucket, query).
	Bucket string
	// Key is the object key or prefix, without a leading slash.
	Key string
	// Base is scheme://bucket, which names objects in rows and errors.
	Base string
}

// Name is how an object is named in rows: scheme://bucket/key, without the
// URL's query, which may carry an endpoint.
func (l location) Name(key string) string { return l.Base + "/" + key }

// parseLocation splits s3://bucket/key?query.
func parseLocation(s string) (location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return location{}, fmt.Errorf("%s: %w", s, err)
	}
	if u.Host == "" {
		return location{}, fmt.Errorf("%s: no bucket name (want %s://BUCKET/PREFIX)", s, u.Scheme)
	}
	base := u.Scheme + "://" + u.Host
	bucket := base
	if u.RawQuery != "" {
		bucket += "?" + u.RawQuery
	}
	return location{Bucket: bucket, Key: strings.TrimPrefix(u.Path, "/"), Base: base}, nil
}

// Buckets opens each bucket once for a run and closes them all at its end.
type Buckets struct {
	// Idle is how long a read of an object may make no progress before it
	// fails: a connection that stalls mid-body would otherwise hold the run
	// forever, as the SDK sets no timeout on reading a body.
	Idle time.Duration
	mu   sync.Mutex
	open map[string]*blob.Bucket
}

// NewBuckets returns an empty set.
func NewBuckets() *Buckets {
	return &Buckets{Idle: defaultIdle, open: map[string]*blob.Bucket{}}
}

// defaultIdle is Buckets.Idle unless changed: longer than a local file's,
// since a busy object store can pause for seconds and still deliver.
const defaultIdle = time.Minute

// get opens (or returns the open) bucket of loc.
func (bs *Buckets) get(ctx context.Context, loc location) (*blob.Bucket, error) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.open[loc.Bucket]; ok {
		return b, nil
	}
	var b *blob.Bucket
	var err error
	if strings.HasPrefix(loc.Bucket, "gs://") {
		b, err = openGCS(ctx, loc)
	} else {
		b, err = blob.OpenBucket(ctx, loc.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", loc.Base, err)
	}
	bs.open[loc.Bucket] = b
	return b, nil
}

// Close closes every bucket opened.
func (bs *Buckets) Close() error {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	var errs []error
	for k, b := range bs.open {
		errs = append(errs, b.Close())
		delete(bs.open, k)
	}
	return errors.Join(errs...)
}

// Inputs lists the objects named by arg, an s3:// or gs:// URL, as
// input.Walk does a folder (input.Objects says what the listing holds).
func Inputs(ctx context.Context, bs *Buckets, arg string, exts []string) iter.Seq[input.Input] {
	return input.Objects(ctx, arg, exts, func() (input.Bucket, string, error) {
		loc, err := parseLocation(arg)
		if err != nil {
			return nil, "", err
		}
		b, err := bs.get(ctx, loc)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", arg, err)
		}
		return listed{b: b, loc: loc, idle: bs.Idle}, loc.Key, nil
	})
}

// listed is a bucket as input.Objects lists it.
type listed struct {
	b    *blob.Bucket
	loc  location
	idle time.Duration
}

func (l listed) Name(key string) string { return l.loc.Name(key) }

func (l listed) Exists(ctx context.Context, key string) (bool, error) { return l.b.Exists(ctx, key) }

func (l listed) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		it := l.b.List(&blob.ListOptions{Prefix: prefix})
		for {
			obj, err := it.Next(ctx)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield("", err)
				return
			}
			if !obj.IsDir && !yield(obj.Key, nil) {
				return
			}
		}
	}
}

func (l listed) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return read(ctx, l.b, l.loc.Name(key), key, l.idle)
}

// read streams the object at key, named name in errors, failing a read
// that makes no progress for idle.
func read(ctx context.Context, b *blob.Bucket, name, key string, idle time.Duration) (io.ReadCloser, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, describe(name, err)
	}
	return safeio.NewIdleReadCloser(ctx, r, idle), nil
}

func describe(name string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s: no such object", name)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Open streams the object at url.
func Open(ctx context.Context, bs *Buckets, rawURL string) (io.ReadCloser, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return nil, err
	}
	b, err := bs.get(ctx, loc)
	if err != nil {
		return nil, err
	}
	return read(ctx, b, loc.Name(loc.Key), loc.Key, bs.Idle)
}

// ErrExists is returned by Upload without replace when the object exists.
var ErrExists = errors.New("already exists")

// Exists reports whether the object at rawURL is there.
func Exists(ctx context.Context, bs *Buckets, rawURL string) (bool, error) {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return false, err
	}
	b, err := bs.get(ctx, loc)
	if err != nil {
		return false, err
	}
	ok, err := b.Exists(ctx, loc.Key)
	if err != nil {
		return false, describe(loc.Name(loc.Key), err)
	}
	return ok, nil
}

// Download copies the object at rawURL into w; found is false when there
// is no such object.
func Download(ctx context.Context, bs *Buckets, rawURL string, w io.Writer) (found bool, err error) {
	r, err := Open(ctx, bs, rawURL)
	if err != nil {
		loc, _ := parseLocation(rawURL)
		b, berr := bs.get(ctx, loc)
		if berr == nil {
			if ok, eerr := b.Exists(ctx, loc.Key); eerr == nil && !ok {
				return false, nil
			}
		}
		return false, err
	}
	defer r.Close()
	if _, err := io.Copy(w, r); err != nil {
		return true, fmt.Errorf("read %s: %w", rawURL, err)
	}
	return true, nil
}

// Upload writes the local file src to the object at rawURL. Without
// replace the write is conditional (If-None-Match: *), so an object that
// appeared during the run is kept and ErrExists returned.
func Upload(ctx context.Context, bs *Buckets, rawURL, src string, replace bool) error {
	loc, err := parseLocation(rawURL)
	if err != nil {
		return err
	}
	b, err := bs.get(ctx, loc)
	if err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("upload %s: %w", loc.Name(loc.Key), err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewWriter(ctx, loc.Key, &blob.WriterOptions{IfNotExist: !replace, ContentType: contentType(loc.Key)})
	if err != nil {
		return fmt.Errorf("upload %s: %w", loc.Name(loc.Key), err)
	}
	if _, err := io.Copy(w, f); err != nil {
		cancel() // abandons the upload; Close then reports it
		w.Close()
		return fmt.Errorf("upload %s: %w", loc.Name(loc.Key), err)
	}
	if err := w.Close(); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return fmt.Errorf("%s: %w", loc.Name(loc.Key), ErrExists)
		}
		return fmt.Errorf("upload %s: %w", loc.Name(loc.Key), err)
	}
	return nil
}

func contentType(key string) string {
	switch path.Ext(key) {
	case ".csv":
		return "text/csv"
	case ".jsonl":
		return "application/jsonl"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// openGCS opens a gs:// bucket with Application Default Credentials. The
// driver's own URL opener is not used: without credentials it prints a
// warning to stdout, into the rows of a run writing there, and goes on
// with empty ones; here their absence is an error that says where
// credentials come from.
func openGCS(ctx context.Context, loc location) (*blob.Bucket, error) {
	if strings.Contains(loc.Bucket, "?") {
		return nil, fmt.Errorf("gs:// URLs take no query; credentials come from Application Default Credentials")
	}
	creds, err := gcp.DefaultCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("no Google credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or the workload's service account): %w", err)
	}
	client, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
	if err != nil {
		return nil, err
	}
	return gcsblob.OpenBucket(ctx, client, strings.TrimPrefix(loc.Base, "gs://"), nil)
}
