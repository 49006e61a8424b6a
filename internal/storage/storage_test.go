package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/internal/testutil"
)

func TestParse(t *testing.T) {
	loc, err := parseLocation("s3://bkt/a/b?region=eu-west-1")
	if err != nil || loc.Bucket != "s3://bkt?region=eu-west-1" || loc.Key != "a/b" || loc.Name("a/b/c.jpg") != "s3://bkt/a/b/c.jpg" {
		t.Errorf("%+v %v", loc, err)
	}
	if _, err := parseLocation("s3:///key"); err == nil {
		t.Error("no bucket: no error")
	}
	if p, err := LocalPath("file:///data/x"); err != nil || p != "/data/x" {
		t.Errorf("file URL: %q %v", p, err)
	}
	if _, err := LocalPath("file://host/x"); err == nil {
		t.Error("file URL with a host: no error")
	}
}

// Listing in key order (bytes: "a.jpg" before "a/b.jpg"), by extension,
// under the prefix only; reading streams each object.
func TestInputsListAndRead(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	for _, k := range []string{"p/a/b.jpg", "p/a.jpg", "p/Z.PNG", "p/x.txt", "p2/no.jpg"} {
		s3.Put(t, "bkt", k, []byte("data of "+k))
	}
	ctx := context.Background()
	bs := NewBuckets()
	defer bs.Close()
	var names, rels []string
	for in := range Inputs(ctx, bs, "s3://bkt/p"+s3.Query, input.DefaultExtensions) {
		if in.Err != nil {
			t.Fatal(in.Err)
		}
		names, rels = append(names, in.Name), append(rels, in.Rel)
		r, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r)
		r.Close()
		if want := "data of " + in.Name[len("s3://bkt/"):]; string(data) != want {
			t.Errorf("%s read %q", in.Name, data)
		}
	}
	if want := []string{"s3://bkt/p/Z.PNG", "s3://bkt/p/a.jpg", "s3://bkt/p/a/b.jpg"}; !reflect.DeepEqual(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}
	if want := []string{"Z.PNG", "a.jpg", "a/b.jpg"}; !reflect.DeepEqual(rels, want) {
		t.Errorf("rel %q, want %q", rels, want)
	}
}

func TestUploadDownload(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	ctx := context.Background()
	bs := NewBuckets()
	defer bs.Close()
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("rows\n"), 0o644)
	u := "s3://bkt/o/f.jsonl" + s3.Query
	var buf bytes.Buffer
	if found, err := Download(ctx, bs, u, &buf); found || err != nil {
		t.Fatalf("missing object: found %v, err %v", found, err)
	}
	if err := Upload(ctx, bs, u, src, false); err != nil {
		t.Fatal(err)
	}
	// Without replace an existing object is kept.
	os.WriteFile(src, []byte("other\n"), 0o644)
	if err := Upload(ctx, bs, u, src, false); !errors.Is(err, ErrExists) {
		t.Errorf("conditional upload over an object: %v", err)
	}
	if found, err := Download(ctx, bs, u, &buf); !found || err != nil || buf.String() != "rows\n" {
		t.Errorf("found %v, err %v, %q", found, err, buf.String())
	}
	if err := Upload(ctx, bs, u, src, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s3.Get(t, "bkt", "o/f.jsonl"); string(got) != "other\n" {
		t.Errorf("replace: %q", got)
	}
}

// Without Google credentials a gs:// bucket is an error naming where they
// come from, and nothing is printed (the driver's URL opener printed a
// warning to stdout, into the rows).
func TestGCSWithoutCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", dir)
	t.Setenv("CLOUDSDK_CONFIG", dir)
	stdout := os.Stdout
	r, w, _ := os.Pipe()
	os.Stdout = w
	bs := NewBuckets()
	_, err := bs.get(context.Background(), location{Bucket: "gs://b", Base: "gs://b"})
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if len(printed) != 0 {
		t.Errorf("opening the bucket printed %q", printed)
	}
	if err == nil {
		t.Skip("this machine has Google credentials")
	}
	if !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS") {
		t.Errorf("err %v does not say where credentials come from", err)
	}
}

// A body that stalls mid-object fails after the idle timeout, through the
// input's opener and through Open (merge's shards, --resume's download),
// instead of hanging the run.
func TestStalledObjectFails(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	s3.Put(t, "bkt", "p/a.jpg", bytes.Repeat([]byte("x"), 4096))
	s3.Stall("bkt", "p/a.jpg")
	ctx := context.Background()
	bs := NewBuckets()
	defer bs.Close()
	bs.Idle = 20 * time.Millisecond
	n := 0
	for in := range Inputs(ctx, bs, "s3://bkt/p"+s3.Query, input.DefaultExtensions) {
		n++
		r, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		r.Close()
		if !errors.Is(err, safeio.ErrStalled) {
			t.Errorf("input read: %v, want ErrStalled", err)
		}
	}
	if n != 1 {
		t.Fatalf("%d inputs, want 1", n)
	}
	var buf bytes.Buffer
	if _, err := Download(ctx, bs, "s3://bkt/p/a.jpg"+s3.Query, &buf); !errors.Is(err, safeio.ErrStalled) {
		t.Errorf("Download: %v, want ErrStalled", err)
	}
}
