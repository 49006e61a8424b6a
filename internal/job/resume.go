package job

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
	"time"

	"golang.org/x/sys/unix"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/internal/storage"
)

// Resumed is an output that a resumed run (batch --resume) appends to in
// place: a killed run leaves every input it finished in the file, where the
// atomic temporary file of a new output would leave nothing. Run sees it
// through the appender interface.
type Resumed struct {
	f *os.File
	// name is the output as the user gave it; path is the file written,
	// the spool of an object.
	name, path string
	format     report.Format
	plan       plan
	// refused is why the file was refused while the listing was checked.
	refused error
	// spool, when set, is the object the file is the spool of: written
	// from it at each checkpoint and when the run ends, however it ends.
	spool *spool
}

// Resume opens the output at path (a file, or an s3:// or gs:// object,
// fetched into a local spool first) to append to it, reading the inputs it
// already holds. An object is written back every checkpoint and at the end.
// A link at path is refused, so that it cannot redirect the writes, and a
// lock refuses a second run on the same file.
func Resume(ctx context.Context, bs *storage.Buckets, path string, format report.Format, checkpoint time.Duration) (*Resumed, error) {
	if err := CheckResumable(path, format); err != nil {
		return nil, err
	}
	if !storage.IsURL(path) {
		local, _ := storage.LocalPath(path) // its error was CheckResumable's
		return openResumed(ctx, path, local, format)
	}
	s, err := newSpool(bs, path, true)
	if err != nil {
		return nil, err
	}
	s.every = checkpoint
	if _, err := storage.Download(ctx, bs, path, s.f); err != nil {
		s.discard()
		return nil, &ResumeError{Path: path, Err: err}
	}
	r, err := openResumed(ctx, path, s.f.Name(), format)
	if err != nil {
		s.discard()
		return nil, err
	}
	r.spool = s
	return r, nil
}

// CheckResumable says why an output cannot be resumed: stdout, a format
// that cannot be appended to (a JSON array), or a path that is not one; nil
// if it can.
func CheckResumable(path string, format report.Format) error {
	spec, err := report.Lookup(format)
	if err != nil {
		return err
	}
	if IsStdout(path) || !spec.Appendable() {
		return &NotAppendableError{Path: path, Format: format}
	}
	_, err = storage.LocalPath(path)
	return err
}

// openResumed opens the file at path for appending, creating it if need be,
// and plans what must be redone.
func openResumed(ctx context.Context, name, path string, format report.Format) (*Resumed, error) {
	f, err := safeio.OpenNoFollow(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ResumeError{Path: path, Err: err}
	}
	fail := func(err error) (*Resumed, error) {
		f.Close()
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fail(&ResumeError{Path: path, Err: errors.New("another run is writing it")})
		}
		return fail(&ResumeError{Path: path, Err: fmt.Errorf("lock: %w", err)})
	}
	p, err := readPlan(bufio.NewReaderSize(safeio.NewIdleReader(ctx, f, safeio.DefaultIdle), 256<<10), path, format)
	if err != nil {
		return fail(err)
	}
	if p.size, err = f.Seek(0, io.SeekEnd); err != nil {
		return fail(&ResumeError{Path: path, Err: err})
	}
	return &Resumed{f: f, name: name, path: path, format: format, plan: p}, nil
}

// Write appends to the file.
func (r *Resumed) Write(p []byte) (int, error) { return r.f.Write(p) }

// Checkpoint writes an object's spool back when a checkpoint is due.
func (r *Resumed) Checkpoint(ctx context.Context) error {
	if r.spool == nil || !r.spool.due() {
		return nil
	}
	return r.spool.upload(ctx)
}

// Commit and Abort are the same for a resumed output: every whole row in
// the file stands, whether or not the run finished.
func (r *Resumed) Commit(ctx context.Context) error { return r.close(ctx) }
func (r *Resumed) Abort(ctx context.Context) error  { return r.close(ctx) }

// close syncs what was written and writes an object back from its spool.
func (r *Resumed) close(ctx context.Context) error {
	err := errors.Join(r.f.Sync(), r.f.Close())
	if err != nil {
		err = fmt.Errorf("write output %s: %w", r.path, err)
	} else if r.spool != nil && r.refused == nil {
		// A refused file was not changed, and is not written back.
		err = r.spool.upload(ctx)
	}
	if r.spool != nil {
		r.spool.discard()
	}
	return err
}

// Pending leaves out the inputs already in the file, after checking that
// the file's records are those of the listing's first inputs, one each, in
// order, as the run that wrote them wrote them. A file that breaks that
// rule stops the listing before any input runs, with Refused saying why.
// Once the file is accepted, it is cut where its kept records end and note
// is told what was done.
func (r *Resumed) Pending(inputs iter.Seq[input.Input], note func(string)) iter.Seq[input.Input] {
	return func(yield func(input.Input) bool) {
		next, stop := iter.Pull(inputs)
		defer stop()
		rest := func(yield func(input.Input) bool) {
			for in, ok := next(); ok && yield(in); in, ok = next() {
			}
		}
		var redo *input.Input
		for i, d := range r.plan.done {
			in, ok := next()
			want := ""
			if ok {
				want = r.plan.spec.Key(in.Name)
			}
			if want != d.key {
				rec := report.Record{Key: d.key, LineNo: d.lineNo}
				r.refused = &ResumeError{Path: r.path, Err: strayRecord(r.path, rec, r.plan.dupOf(i), want, r.format, rest), Refused: true}
				return
			}
			if i == len(r.plan.done)-1 && r.plan.redoLast {
				redo = &in
			}
		}
		if r.refused = r.apply(note); r.refused != nil {
			return
		}
		if redo != nil && !yield(*redo) {
			return
		}
		rest(yield)
	}
}

// Refused is why Pending stopped the listing, nil if it did not.
func (r *Resumed) Refused() error { return r.refused }

// NeedsHeader reports whether the file holds nothing, not even the
// format's header (report.Spec.Header), which the run then writes.
func (r *Resumed) NeedsHeader() bool { return r.plan.kept() == 0 }

// Name is the output as the user gave it.
func (r *Resumed) Name() string { return r.name }

// apply cuts the file where the kept records end, now that they are known
// to be the listing's, and says what was done.
func (r *Resumed) apply(note func(string)) error {
	if cut := r.plan.cut; cut >= 0 && cut < r.plan.size {
		if err := r.f.Truncate(cut); err != nil {
			return &ResumeError{Path: r.path, Err: fmt.Errorf("cut the last row: %w", err)}
		}
		if _, err := r.f.Seek(cut, io.SeekStart); err != nil {
			return &ResumeError{Path: r.path, Err: err}
		}
	}
	for _, n := range r.plan.notes {
		note(n)
	}
	return nil
}
