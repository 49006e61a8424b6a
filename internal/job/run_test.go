package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/report"
)

func TestRunWritesInInputOrderAndCommits(t *testing.T) {
	in := names(9)
	out := &memOutput{}
	var c collect
	o := c.options(report.FormatJSONL)
	o.Pipeline.Workers = 3
	sum, err := Run(context.Background(), listing(in...), &fakeEstimator{}, out, o)
	if err != nil || sum.Inputs != len(in) || sum.OK != len(in) {
		t.Fatalf("summary %+v, error %v", sum, err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for i, l := range lines {
		if want := `{"input":"` + in[i] + `"`; !strings.HasPrefix(l, want) {
			t.Errorf("line %d is %.40s..., want %s", i+1, l, want)
		}
	}
	if len(lines) != len(in) || out.committed != 1 || out.aborted != 0 || out.checkpoints != len(in) {
		t.Errorf("%d lines, committed %d, aborted %d, %d checkpoints", len(lines), out.committed, out.aborted, out.checkpoints)
	}
}

// A failed checkpoint is a warning: the rows go on, and the run commits.
func TestRunWarnsOfAFailedCheckpoint(t *testing.T) {
	out := &memOutput{checkpointErr: errors.New("bucket unreachable")}
	var c collect
	if _, err := Run(context.Background(), listing(names(2)...), &fakeEstimator{}, out, c.options(report.FormatCSV)); err != nil {
		t.Fatal(err)
	}
	want := []string{"checkpoint: bucket unreachable", "checkpoint: bucket unreachable"}
	if strings.Join(c.warns, "|") != strings.Join(want, "|") || out.committed != 1 {
		t.Errorf("warnings %q, committed %d", c.warns, out.committed)
	}
}

// An interrupted run into a resumed file keeps a prefix of the listing, and
// resuming finishes it: the file is then what one whole run writes.
func TestInterruptedRunResumes(t *testing.T) {
	in := names(12)
	for _, format := range []report.Format{report.FormatJSONL, report.FormatCSV} {
		whole := &memOutput{}
		var c collect
		if _, err := Run(context.Background(), listing(in...), &fakeEstimator{}, whole, c.options(format)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "out."+string(format))
		for try := 0; ; try++ {
			r, err := Resume(context.Background(), nil, path, format, 0)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			est := &fakeEstimator{cancel: cancel, cancelAfter: 5}
			if try == 2 {
				est.cancelAfter = 0 // the last run finishes
			}
			_, err = Run(ctx, listing(in...), est, r, c.options(format))
			cancel()
			got, _ := os.ReadFile(path)
			if !strings.HasPrefix(whole.String(), string(got)) {
				t.Fatalf("%s, run %d: the file is not a prefix of one whole run:\n%s", format, try+1, got)
			}
			if est.cancelAfter == 0 {
				if err != nil || string(got) != whole.String() {
					t.Errorf("%s: after resuming, error %v and\n%s\nwant\n%s", format, err, got, whole.String())
				}
				break
			}
			if err == nil || !strings.Contains(err.Error(), "interrupted; "+path+" holds every input finished so far") {
				t.Errorf("%s, run %d: %v", format, try+1, err)
			}
		}
	}
}

func TestSpoolCheckpointIsDueEveryInterval(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &spool{every: time.Minute, last: now, now: func() time.Time { return now }}
	if s.due() {
		t.Error("due at once")
	}
	now = now.Add(59 * time.Second)
	if s.due() {
		t.Error("due before the interval")
	}
	now = now.Add(time.Second)
	if !s.due() {
		t.Error("not due after the interval")
	}
	s.every = 0
	if s.due() {
		t.Error("an output without checkpoints is due")
	}
}
