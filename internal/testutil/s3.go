package testutil

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// FakeS3 is an S3-protocol server in the test's process (gofakes3, in
// memory), for the object storage tests: no network, no account.
type FakeS3 struct {
	Backend *s3mem.Backend
	// Query is what an s3:// URL needs to reach it:
	// ?endpoint=...&use_path_style=true&region=us-east-1.
	Query string
	// stall holds the keys whose GET sends half the body and then nothing.
	stall *sync.Map
}

// StartFakeS3 starts the server with bucket created, and points the AWS
// SDK's credential chain at fixed keys through the environment, as a user's
// would be, so that nothing is looked up on the machine or the network.
func StartFakeS3(t *testing.T, bucket string) *FakeS3 {
	t.Helper()
	backend := s3mem.New()
	stall := &sync.Map{}
	stop := make(chan struct{})
	srv := httptest.NewServer(stallingGets(gofakes3.New(backend).Server(), stall, stop))
	t.Cleanup(srv.Close)
	// Cleanups run last first: the stalled handlers end before Close waits on them.
	t.Cleanup(func() { close(stop) })
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "test",
		"AWS_SECRET_ACCESS_KEY":       "test",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		// gofakes3 sends no checksums; the SDK would warn on every read.
		"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
	} {
		t.Setenv(k, v)
	}
	q := url.Values{"endpoint": {srv.URL}, "use_path_style": {"true"}, "region": {"us-east-1"}}
	return &FakeS3{Backend: backend, Query: "?" + q.Encode(), stall: stall}
}

// Stall makes every GET of bucket/key send half of the object's body and
// then hang until the test ends, as a stalled connection does.
func (f *FakeS3) Stall(bucket, key string) { f.stall.Store("/"+bucket+"/"+key, true) }

func stallingGets(h http.Handler, stall *sync.Map, stop <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := stall.Load(r.URL.Path); ok && r.Method == http.MethodGet {
			w = &stallingWriter{ResponseWriter: w, stop: stop}
		}
		h.ServeHTTP(w, r)
	})
}

type stallingWriter struct {
	http.ResponseWriter
	stop <-chan struct{}
}

func (s *stallingWriter) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p[:len(p)/2])
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	<-s.stop
	return n, err
}

// Put stores an object.
func (f *FakeS3) Put(t *testing.T, bucket, key string, data []byte) {
	t.Helper()
	if _, err := f.Backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// Get reads an object; ok is false when there is none.
func (f *FakeS3) Get(t *testing.T, bucket, key string) (data []byte, ok bool) {
	t.Helper()
	obj, err := f.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, false
	}
	defer obj.Contents.Close()
	data, err = io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}
