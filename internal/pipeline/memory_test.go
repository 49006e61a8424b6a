package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/input"
)

// sizedReader is a file of known size whose first read checks that its
// bytes are already held in b: at least size of it is in use.
type sizedReader struct {
	*bytes.Reader
	size   int64
	b      *budget.Budget
	early  *atomic.Int64
	looked bool
}

func (r *sizedReader) Size() int64  { return r.size }
func (r *sizedReader) Close() error { return nil }

func (r *sizedReader) Read(p []byte) (int, error) {
	if !r.looked {
		r.looked = true
		if release, ok := r.b.TryAcquire(r.b.Total() - r.size + 1); ok {
			release()
			r.early.Add(1)
		}
	}
	return r.Reader.Read(p)
}

// paddedInputs are n inputs of a small PNG padded to size bytes (the
// decoder stops at IEND), each read through a sizedReader.
func paddedInputs(n int, size int64, b *budget.Budget, early *atomic.Int64) []input.Input {
	data := append(bytes.Clone(pngs[4]), make([]byte, size-int64(len(pngs[4])))...)
	ins := make([]input.Input, n)
	for i := range ins {
		ins[i] = input.Input{Name: fmt.Sprintf("f%03d.png", i), Open: func() (io.ReadCloser, error) {
			return &sizedReader{Reader: bytes.NewReader(data), size: size, b: b, early: early}, nil
		}}
	}
	return ins
}

// A file's bytes are held in the budget before they are read: batch once
// read whole files first, and 32 workers on a 58 MB file under a 64 MB
// budget peaked at 1.2 GB. With files of 3 MB under 7 MB, at most two can
// be read at once, and every one still gets its row.
func TestFileBytesHeldBeforeTheyAreRead(t *testing.T) {
	for _, workers := range []int{1, 8} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			b := budget.New(7 << 20)
			var early atomic.Int64
			ins := paddedInputs(24, 3<<20, b, &early)
			rows, err := runWithin(t, time.Minute, context.Background(), ins, &fakeEstimator{},
				Options{Workers: workers, Chunk: 4, Budget: b})
			if err != nil {
				t.Fatal(err)
			}
			if n := early.Load(); n > 0 {
				t.Errorf("%d of %d files were read before their bytes were held", n, len(ins))
			}
			for i, r := range rows {
				if r.err != nil || r.name != ins[i].Name {
					t.Errorf("row %d: %s %v, want %s without error", i, r.name, r.err, ins[i].Name)
				}
			}
		})
	}
}

// A file larger than the whole budget is refused before it is read, naming
// the file and the budget.
func TestFileOverTheBudgetRefusedUnread(t *testing.T) {
	b := budget.New(2 << 20)
	var early atomic.Int64
	ins := paddedInputs(1, 3<<20, b, &early)
	rows, err := runWithin(t, time.Minute, context.Background(), ins, &fakeEstimator{}, Options{Workers: 1, Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	want := "f000.png: 3.0 MB to read it: needs 3.0 MB, over the memory budget of 2.0 MB"
	if len(rows) != 1 || rows[0].err == nil || !strings.Contains(rows[0].err.Error(), want) || early.Load() != 0 {
		t.Fatalf("rows %v (read early %d), want one error saying %q", rows, early.Load(), want)
	}
}
