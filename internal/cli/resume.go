package cli

import (
	"bufio"
	"context"
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
	"github.com/agegender/agegender/internal/safeio"
)

// resumable is an output that --resume appends to in place: a killed run
// leaves every input it finished in the file, where the atomic temporary
// file of a normal run would leave nothing.
type resumable struct {
	f    *os.File
	path string
	// done are the file's records, in order, checked against the listing
	// before any input runs.
	done []doneRecord
	// redoLast is set when the last of done is done again (CSV).
	redoLast bool
	// cut is where the kept records end, -1 for the whole file; the file is
	// cut there only once done has matched the listing, so that a refused
	// file is left as it is.
	cut  int64
	size int64
	// notes are the warnings printed once the file is accepted.
	notes []string
	// err is why the file was refused while the listing was checked.
	err error
	// needHeader is true when a CSV file is empty and needs its header.
	needHeader bool
	// object, when set, is the object storage output the file is the spool
	// of: written from it when the run ends, however it ends.
	object *spoolObject
}

// doneRecord is what is kept of a record already in the file.
type doneRecord struct {
	key    string
	lineNo int
}

// openResumable opens path for appending (creating it if need be; a link
// there is refused, so that it cannot redirect the writes), reads the inputs
// it already holds and plans what must be redone: a last record that a
// killed run cut short and, in CSV, the last input's rows, since CSV cannot
// tell an input whose last faces were never written from one with fewer
// faces. A lock refuses a second run on the same file.
func openResumable(ctx context.Context, path string, format report.Format) (*resumable, error) {
	f, err := safeio.OpenNoFollow(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--resume %s: %w", path, err)
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
	rr, err := report.NewRecordReader(format, bufio.NewReaderSize(safeio.NewIdleReader(ctx, f, safeio.DefaultIdle), 256<<10), path)
	if err != nil {
		return fail(err)
	}
	r := &resumable{f: f, path: path, cut: -1}
	var last report.Record
	torn := false
	for {
		rec, err := rr.Next()
		var te *report.TornError
		if errors.As(err, &te) {
			r.cut, torn = te.At, true
			break
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("--resume %s; it is left as it is", err))
		}
		r.done = append(r.done, doneRecord{rec.Key, rec.LineNo})
		last = rec
	}
	if r.size, err = f.Seek(0, io.SeekEnd); err != nil {
		return fail(fmt.Errorf("--resume %s: %w", path, err))
	}
	if torn {
		r.notes = append(r.notes, fmt.Sprintf("agegender: %s: the last row was cut short by a killed run; removed, its input is done again", path))
	}
	n, redone := len(r.done), ""
	if format == report.FormatCSV && n > 0 && !torn {
		// Its rows may lack faces the killed run never wrote.
		r.redoLast, r.cut = true, last.Start
		n--
		redone = fmt.Sprintf("; its last input (%s) is done again, since CSV cannot show whether all its faces were written", last.Key)
	}
	if n > 0 || redone != "" {
		r.notes = append(r.notes, fmt.Sprintf("agegender: resuming %s: %d inputs already done%s", path, n, redone))
	}
	kept := r.size
	if r.cut >= 0 && r.cut < r.size {
		kept = r.cut
	}
	r.needHeader = kept == 0
	return r, nil
}

// skipDone leaves out the inputs already in the file, after checking that
// the file's records are those of the listing's first inputs, one each, in
// order, as the run that wrote them wrote them. A file that breaks that
// rule stops the listing before any input runs, with r.err saying why.
func (r *resumable) skipDone(inputs iter.Seq[pipeline.Input], format report.Format, warn io.Writer) iter.Seq[pipeline.Input] {
	return func(yield func(pipeline.Input) bool) {
		next, stop := iter.Pull(inputs)
		defer stop()
		rest := func(yield func(pipeline.Input) bool) {
			for in, ok := next(); ok && yield(in); in, ok = next() {
			}
		}
		var redo *pipeline.Input
		for i, d := range r.done {
			in, ok := next()
			want := ""
			if ok {
				want = report.Key(format, in.Name)
			}
			if want != d.key {
				dupOf := 0
				for _, e := range r.done[:i] {
					if e.key == d.key {
						dupOf = e.lineNo
						break
					}
				}
				rec := report.Record{Key: d.key, LineNo: d.lineNo}
				r.err = fmt.Errorf("--resume %w; it is left as it is", strayRecord(r.path, rec, dupOf, want, format, rest))
				return
			}
			if i == len(r.done)-1 && r.redoLast {
				redo = &in
			}
		}
		if r.err = r.apply(warn); r.err != nil {
			return
		}
		if redo != nil && !yield(*redo) {
			return
		}
		rest(yield)
	}
}

// apply cuts the file where the kept records end, now that they are known
// to be the listing's, and says what was done.
func (r *resumable) apply(warn io.Writer) error {
	if r.cut >= 0 && r.cut < r.size {
		if err := r.f.Truncate(r.cut); err != nil {
			return fmt.Errorf("--resume %s: cut the last row: %w", r.path, err)
		}
		if _, err := r.f.Seek(r.cut, io.SeekStart); err != nil {
			return fmt.Errorf("--resume %s: %w", r.path, err)
		}
	}
	for _, n := range r.notes {
		printLine(warn, "%s", n)
	}
	return nil
}

// close syncs what was written, whether or not the run finished: every
// whole row in the file stands.
func (r *resumable) close() error {
	err := errors.Join(r.f.Sync(), r.f.Close())
	if err != nil {
		return fmt.Errorf("write output %s: %w", r.path, err)
	}
	if r.object != nil && r.err == nil {
		// The spool's whole rows stand even after an interrupt; a refused
		// file was not changed, and is not written back.
		return r.object.upload()
	}
	return nil
}
