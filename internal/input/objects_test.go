package input

import (
	"context"
	"errors"
	"io"
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fakeBucket holds objects in memory and lists them in key order, as S3
// and GCS do; storage's tests cover the real bucket over a fake S3.
type fakeBucket struct {
	objects   map[string]string
	existsErr error
	// listErrAfter, when positive, fails the listing after that many keys.
	listErrAfter int
	exists       []string
}

func (b *fakeBucket) Name(key string) string { return "s3://bkt/" + key }

func (b *fakeBucket) Exists(_ context.Context, key string) (bool, error) {
	b.exists = append(b.exists, key)
	_, ok := b.objects[key]
	return ok, b.existsErr
}

func (b *fakeBucket) List(_ context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var keys []string
		for k := range b.objects {
			if strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for i, k := range keys {
			if b.listErrAfter > 0 && i == b.listErrAfter {
				yield("", errors.New("connection reset"))
				return
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}

func (b *fakeBucket) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(b.objects[key])), nil
}

func bucketOf(keys ...string) *fakeBucket {
	b := &fakeBucket{objects: map[string]string{}}
	for _, k := range keys {
		b.objects[k] = "data of " + k
	}
	return b
}

// listObjects ranges over Objects for arg, whose key in b is key.
func listObjects(b *fakeBucket, arg, key string) []Input {
	var ins []Input
	open := func() (Bucket, string, error) { return b, key, nil }
	for in := range Objects(context.Background(), arg, DefaultExtensions, open) {
		ins = append(ins, in)
	}
	return ins
}

// A prefix lists the objects under it in key order ("a.jpg" before
// "a/b.jpg"), by extension in any case, named in full and Rel under the
// prefix; each input streams its object.
func TestObjectsUnderAPrefix(t *testing.T) {
	b := bucketOf("p/a/b.jpg", "p/a.jpg", "p/Z.PNG", "p/x.txt", "p2/no.jpg")
	ins := listObjects(b, "s3://bkt/p?region=x", "p")
	var names, rels []string
	for _, in := range ins {
		if in.Err != nil {
			t.Fatal(in.Err)
		}
		names, rels = append(names, in.Name), append(rels, in.Rel)
		r, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r)
		if want := "data of " + strings.TrimPrefix(in.Name, "s3://bkt/"); string(data) != want {
			t.Errorf("%s read %q", in.Name, data)
		}
	}
	if want := []string{"s3://bkt/p/Z.PNG", "s3://bkt/p/a.jpg", "s3://bkt/p/a/b.jpg"}; !reflect.DeepEqual(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}
	if want := []string{"Z.PNG", "a.jpg", "a/b.jpg"}; !reflect.DeepEqual(rels, want) {
		t.Errorf("rel %q, want %q", rels, want)
	}
	// A trailing slash names a prefix: no object is looked for at it.
	b.exists = nil
	if ins := listObjects(b, "s3://bkt/p/", "p/"); len(ins) != 3 || len(b.exists) != 0 {
		t.Errorf("p/: %d inputs, Exists asked for %q", len(ins), b.exists)
	}
}

// A key that is an object is that one input, whatever its extension, as a
// file named on the command line is.
func TestObjectsNamedByKey(t *testing.T) {
	b := bucketOf("p/a.raw", "p/a.raw/b.jpg")
	ins := listObjects(b, "s3://bkt/p/a.raw", "p/a.raw")
	if len(ins) != 1 || ins[0].Name != "s3://bkt/p/a.raw" || ins[0].Rel != "a.raw" || ins[0].Err != nil {
		t.Fatalf("inputs %+v, want p/a.raw alone", ins)
	}
}

// What fails, and a listing that finds nothing, is one error row naming
// the argument (Rel "."), so that no argument is lost.
func TestObjectsFailures(t *testing.T) {
	arg := "s3://bkt/p"
	for _, c := range []struct {
		name string
		b    *fakeBucket
		key  string
		open error
		// ok is how many inputs come before the error row.
		ok   int
		want string
	}{
		{"open", bucketOf(), "p", errors.New("s3://bkt/p: open s3://bkt: no credentials"), 0, "s3://bkt/p: open s3://bkt: no credentials"},
		{"exists", &fakeBucket{objects: map[string]string{}, existsErr: errors.New("403")}, "p", nil, 0, "s3://bkt/p: 403"},
		{"list", &fakeBucket{objects: map[string]string{"p/a.jpg": "", "p/b.jpg": ""}, listErrAfter: 1}, "p", nil, 1, "list s3://bkt/p/: connection reset"},
		{"none", bucketOf("p/x.txt", "q/a.jpg"), "p", nil, 0, "s3://bkt/p: no object under this prefix has the extensions " + strings.Join(DefaultExtensions, " ")},
	} {
		open := func() (Bucket, string, error) { return c.b, c.key, c.open }
		var ins []Input
		for in := range Objects(context.Background(), arg, DefaultExtensions, open) {
			ins = append(ins, in)
		}
		if len(ins) != c.ok+1 {
			t.Errorf("%s: %d inputs, want %d and the error", c.name, len(ins), c.ok)
			continue
		}
		last := ins[c.ok]
		if last.Name != arg || last.Rel != "." || last.Err == nil || last.Err.Error() != c.want {
			t.Errorf("%s: last row %s %q %v, want %s . %q", c.name, last.Name, last.Rel, last.Err, arg, c.want)
		}
	}
}

// The bucket is opened when the listing is ranged over, in its turn among
// the arguments, and breaking out of the range stops the listing.
func TestObjectsOpenLazilyAndStop(t *testing.T) {
	b := bucketOf("p/a.jpg", "p/b.jpg", "p/c.jpg")
	opened := 0
	seq := Objects(context.Background(), "s3://bkt/p", DefaultExtensions, func() (Bucket, string, error) {
		opened++
		return b, "p", nil
	})
	if opened != 0 {
		t.Fatal("Objects opened the bucket before it was ranged over")
	}
	for stop := 1; stop <= 3; stop++ {
		n := 0
		for range seq {
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("stop at %d: got %d", stop, n)
		}
	}
}
