package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/testutil"
)

// s3Photos puts shardTree's files into the bucket under photos/ and returns
// the local tree too, for a run to compare with.
func s3Photos(t *testing.T, s3 *testutil.FakeS3) string {
	t.Helper()
	in := shardTree(t)
	err := filepath.Walk(in, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(in, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s3.Put(t, "bkt", "photos/"+filepath.ToSlash(rel), data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s3.Put(t, "bkt", "photos/notes.txt", []byte("not an image; no extension we read"))
	s3.Put(t, "bkt", "photosXL/a.png", []byte("a sibling prefix, not under photos/"))
	return in
}

// Listing and streaming reads: a batch over s3://bkt/photos writes the rows
// a local run over the same files writes, named by their URLs, in key order.
func TestS3BatchInputsAndOutput(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	in := s3Photos(t, s3)
	dir := t.TempDir()
	local := filepath.Join(dir, "local.jsonl")
	runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", local, in)
	want, _ := os.ReadFile(local)
	want = bytes.ReplaceAll(want, []byte(in+"/"), []byte("s3://bkt/photos/"))

	out := "s3://bkt/out/all.jsonl" + s3.Query
	code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", out, "s3://bkt/photos"+s3.Query)
	if code != exitSomeFailed { // broken.jpg
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	got, ok := s3.Get(t, "bkt", "out/all.jsonl")
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("object out/all.jsonl (found %v):\n%s\nwant\n%s", ok, got, want)
	}
	// No clobbering: a second run is refused before it starts, and the
	// object is left; --force replaces it.
	s3.Put(t, "bkt", "out/all.jsonl", []byte("{\"input\":\"mine\"}\n"))
	code, _, errOut = runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", out, "s3://bkt/photos"+s3.Query)
	if code != exitError || !strings.Contains(errOut, "already exists") {
		t.Errorf("second run: exit %d, stderr %q", code, errOut)
	}
	if got, _ := s3.Get(t, "bkt", "out/all.jsonl"); string(got) != "{\"input\":\"mine\"}\n" {
		t.Errorf("the existing object was changed")
	}
	if code, _, errOut = runCLIEnv(t, nil, "", "batch", "-q", "--force", "--jsonl", out, "s3://bkt/photos"+s3.Query); code != exitSomeFailed {
		t.Errorf("--force: exit %d, stderr %q", code, errOut)
	}
	if got, _ := s3.Get(t, "bkt", "out/all.jsonl"); !bytes.Equal(got, want) {
		t.Errorf("--force did not replace the object")
	}
	// One object by its key; a prefix with nothing under it is an error row.
	code, stdout, _ := runCLIEnv(t, nil, "", "batch", "-q", "s3://bkt/photos/d1/01.png"+s3.Query, "s3://bkt/nothing"+s3.Query)
	if code != exitSomeFailed || !strings.Contains(stdout, `"input":"s3://bkt/photos/d1/01.png","width":41`) ||
		!strings.Contains(stdout, `s3://bkt/nothing`+s3.Query+`: no object under this prefix`) {
		t.Errorf("exit %d, stdout %s", code, stdout)
	}
	if strings.Contains(string(got), "notes.txt") || strings.Contains(string(got), "photosXL") {
		t.Errorf("listing took an object it should not:\n%s", got)
	}
}

// Shards over a bucket, written to the bucket, merged from it: one run's
// output. Then a preempted shard (its object cut mid-row) resumes.
func TestS3ShardMergeResume(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	s3Photos(t, s3)
	src := "s3://bkt/photos" + s3.Query
	dir := t.TempDir()
	for _, ext := range []string{"jsonl", "csv"} {
		whole := filepath.Join(dir, "whole."+ext)
		runCLIEnv(t, nil, "", "batch", "-q", "--"+ext, whole, src)
		want, _ := os.ReadFile(whole)
		var shards []string
		for i := 0; i < 3; i++ {
			key := fmt.Sprintf("out/shard-%d.%s", i, ext)
			env := map[string]string{"JOB_COMPLETION_INDEX": fmt.Sprint(i), "AGEGENDER_SHARD_COUNT": "3"}
			if code, _, errOut := runCLIEnv(t, env, "", "batch", "-q", "--resume", "--"+ext, "s3://bkt/"+key+s3.Query, src); code == exitError {
				t.Fatalf("shard %d: stderr %q", i, errOut)
			}
			full, _ := s3.Get(t, "bkt", key)
			if i == 1 {
				// Preempted: the object holds what a checkpoint saved, cut mid-row.
				s3.Put(t, "bkt", key, full[:len(full)*2/3])
				code, _, errOut := runCLIEnv(t, env, "", "batch", "-q", "--resume", "--"+ext, "s3://bkt/"+key+s3.Query, src)
				if code == exitError || !strings.Contains(errOut, "resuming") {
					t.Fatalf("resume shard 1: exit %d, stderr %q", code, errOut)
				}
				if again, _ := s3.Get(t, "bkt", key); !bytes.Equal(again, full) {
					t.Errorf("%s: resumed shard object differs:\n%s\nwant\n%s", ext, again, full)
				}
			}
			shards = append(shards, "s3://bkt/"+key+s3.Query)
		}
		merged := "s3://bkt/out/merged." + ext + s3.Query
		args := append(append([]string{"merge", "--out", merged}, shards...), "--", src)
		if code, _, errOut := runCLIEnv(t, nil, "", args...); code != exitOK {
			t.Fatalf("merge: exit %d, stderr %q", code, errOut)
		}
		if got, _ := s3.Get(t, "bkt", "out/merged."+ext); !bytes.Equal(got, want) {
			t.Errorf("%s: merged shards from the bucket differ from one run:\n%s\nwant\n%s", ext, got, want)
		}
	}
}
