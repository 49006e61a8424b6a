package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
)

// resumable is an output that --resume appends to in place: a killed run
// leaves every input it finished in the file, where the atomic temporary
// file of a normal run would leave nothing.
type resumable struct {
	f    *os.File
	path string
	// done counts the records of each input (by report.Key) already in the
	// file: a path given twice has two.
	done map[string]int
	// needHeader is true when a CSV file is empty and needs its header.
	needHeader bool
	// object, when set, is the object storage output the file is the spool
	// of: written from it when the run ends, however it ends.
	object *spoolObject
}

// openResumable opens path for appending (creating it if need be), reads
// the inputs it already holds and cuts away what must be redone: a last
// record that a killed run cut short and, in CSV, the last input's rows,
// since CSV cannot tell an input whose last faces were never written from
// one with fewer faces. A lock refuses a second run on the same file.
func openResumable(path string, format report.Format, warn io.Writer) (*resumable, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("--resume %s: not a regular file (%v)", path, st.Mode().Type())
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	fail := func(err error) (*resumable, error) {
		f.Close()
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fail(fmt.Errorf("--resume %s: another run is writing it", path))
		}
		return fail(fmt.Errorf("--resume %s: lock: %w", path, err))
	}
	rr, err := report.NewRecordReader(format, bufio.NewReaderSize(f, 256<<10), path)
	if err != nil {
		return fail(err)
	}
	done := map[string]int{}
	var last report.Record
	var n int
	cut := int64(-1) // where the kept records end; -1: the whole file is kept
	torn := false
	for {
		rec, err := rr.Next()
		var te *report.TornError
		if errors.As(err, &te) {
			cut, torn = te.At, true
			break
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("--resume %s: %w; it is left as it is", path, err))
		}
		done[rec.Key]++
		last = rec
		n++
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(fmt.Errorf("--resume %s: %w", path, err))
	}
	redone := ""
	if format == report.FormatCSV && n > 0 && !torn {
		// Its rows may lack faces the killed run never wrote.
		done[last.Key]--
		n--
		cut = last.Start
		redone = fmt.Sprintf("; its last input (%s) is done again, since CSV cannot show whether all its faces were written", last.Key)
	}
	if cut >= 0 && cut < size {
		if err := f.Truncate(cut); err != nil {
			return fail(fmt.Errorf("--resume %s: cut the last row: %w", path, err))
		}
		if _, err := f.Seek(cut, io.SeekStart); err != nil {
			return fail(fmt.Errorf("--resume %s: %w", path, err))
		}
		size = cut
	}
	if torn {
		fmt.Fprintf(warn, "agegender: %s: the last row was cut short by a killed run; removed, its input is done again\n", path)
	}
	if n > 0 || redone != "" {
		fmt.Fprintf(warn, "agegender: resuming %s: %d inputs already done%s\n", path, n, redone)
	}
	return &resumable{f: f, path: path, done: done, needHeader: size == 0}, nil
}

// skipDone leaves out the inputs already in the file.
func (r *resumable) skipDone(inputs iter.Seq[pipeline.Input], format report.Format) iter.Seq[pipeline.Input] {
	return func(yield func(pipeline.Input) bool) {
		for in := range inputs {
			if k := report.Key(format, in.Name); r.done[k] > 0 {
				r.done[k]--
				continue
			}
			if !yield(in) {
				return
			}
		}
	}
}

// close syncs what was written, whether or not the run finished: every
// whole row in the file stands.
func (r *resumable) close() error {
	err := errors.Join(r.f.Sync(), r.f.Close())
	if err != nil {
		return fmt.Errorf("write output %s: %w", r.path, err)
	}
	if r.object != nil {
		// The spool's whole rows stand even after an interrupt.
		return r.object.upload()
	}
	return nil
}
