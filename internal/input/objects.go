package input

import (
	"context"
	"fmt"
	"io"
	"iter"
	"path"
	"strings"
)

// Bucket is object storage as Objects lists it. internal/storage implements
// it over gocloud.dev/blob; this package only decides what a listing holds,
// so that it knows no cloud and storage knows no Input but its type.
type Bucket interface {
	// Name is how the object at key is named in rows and errors.
	Name(key string) string
	// Exists reports whether there is an object at key.
	Exists(ctx context.Context, key string) (bool, error)
	// List yields the keys of the objects under prefix in key order,
	// folders left out; an error is its last element.
	List(ctx context.Context, prefix string) iter.Seq2[string, error]
	// Open streams the object at key; its errors name the object.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Objects lists the objects that arg names, as Walk does a folder. open,
// called when the listing is ranged over, gives the bucket and the key
// arg names in it. An object whose key is that key is the one input;
// otherwise every object under the key as a prefix whose extension is in
// exts, in key order (the order S3 and GCS list in: bytes, so "a.jpg" comes
// before "a/b.jpg"). Each input is read by streaming the object when a
// worker gets to it. A bucket that fails to open, a listing that fails, or
// one that finds nothing becomes an error row naming arg.
func Objects(ctx context.Context, arg string, exts []string, open func() (Bucket, string, error)) iter.Seq[Input] {
	return func(yield func(Input) bool) {
		fail := func(err error) { yield(Input{Name: arg, Rel: ".", Err: err}) }
		b, key, err := open()
		if err != nil {
			fail(err)
			return
		}
		if key != "" && !strings.HasSuffix(key, "/") {
			ok, err := b.Exists(ctx, key)
			if err != nil {
				fail(fmt.Errorf("%s: %w", b.Name(key), err))
				return
			}
			if ok {
				yield(object(ctx, b, key, path.Base(key)))
				return
			}
		}
		prefix := key
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		found := 0
		for k, err := range b.List(ctx, prefix) {
			if err != nil {
				fail(fmt.Errorf("list %s: %w", b.Name(prefix), err))
				return
			}
			if !hasExt(k, exts) {
				continue
			}
			found++
			if !yield(object(ctx, b, k, strings.TrimPrefix(k, prefix))) {
				return
			}
		}
		if found == 0 {
			fail(fmt.Errorf("%s: no object under this prefix has the extensions %s", arg, strings.Join(exts, " ")))
		}
	}
}

// object is the input that reads key; its reads are bounded by the
// bucket's own idle timeout, so Idle stays 0.
func object(ctx context.Context, b Bucket, key, rel string) Input {
	return Input{Name: b.Name(key), Rel: rel, Open: func() (io.ReadCloser, error) { return b.Open(ctx, key) }}
}
