package job

import (
	"context"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/storage"
	"github.com/agegender/agegender/internal/testutil"
)

// A resumed object is written back at each checkpoint, not only at the end.
func TestResumedObjectIsWrittenAtCheckpoints(t *testing.T) {
	s3 := testutil.StartFakeS3(t, "bkt")
	bs := storage.NewBuckets()
	defer bs.Close()
	ctx := context.Background()
	r, err := Resume(ctx, bs, "s3://bkt/c.jsonl"+s3.Query, report.FormatJSONL, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.spool.now = func() time.Time { return now }
	r.Write([]byte("{\"input\":\"a\"}\n"))
	if err := r.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s3.Get(t, "bkt", "c.jsonl"); len(got) != 0 {
		t.Errorf("written before the checkpoint was due: %q", got)
	}
	now = now.Add(time.Minute)
	if err := r.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s3.Get(t, "bkt", "c.jsonl"); string(got) != "{\"input\":\"a\"}\n" {
		t.Errorf("the checkpoint wrote %q", got)
	}
	r.Write([]byte("{\"input\":\"b\"}\n"))
	if err := r.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s3.Get(t, "bkt", "c.jsonl"); string(got) != "{\"input\":\"a\"}\n{\"input\":\"b\"}\n" {
		t.Errorf("an interrupted resumed run wrote back %q", got)
	}
}
