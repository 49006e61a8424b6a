package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/agegender/agegender/internal/outfile"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/storage"
)

// Output is where a run's records go, from the first byte to the end of the
// run. Run ends every Output it is given: Commit when the run succeeded,
// Abort otherwise.
type Output interface {
	io.Writer
	// Checkpoint is called after each record: an output that saves
	// progress along the way (a resumed object) saves it when due.
	Checkpoint(ctx context.Context) error
	// Commit makes the output final.
	Commit(ctx context.Context) error
	// Abort ends a run that failed: a new file or object is not created,
	// and what a resumed file holds stays.
	Abort(ctx context.Context) error
}

// Destination is where a run writes its records, and how.
type Destination struct {
	// Path is a file, an s3:// or gs:// object, or "-" (or "") for stdout.
	Path   string
	Format report.Format
	// Resume appends to the output in place (Resume); otherwise it is
	// created anew (Create), replacing one only with Force.
	Resume, Force bool
	// Checkpoint is how often a resumed object is written back.
	Checkpoint time.Duration
}

// Open opens d's output for Run. A NotAppendableError comes before anything
// is opened.
func Open(ctx context.Context, bs *storage.Buckets, d Destination, stdout io.Writer, warn func(error)) (Output, error) {
	if !d.Resume {
		return Create(ctx, bs, d.Path, d.Force, stdout, warn)
	}
	r, err := Resume(ctx, bs, d.Path, d.Format, d.Checkpoint)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Create opens path for a run's new output: "-" (or "") is stdout; an
// s3:// or gs:// URL is an object, written from a local spool on Commit;
// anything else a file, written to a temporary file and moved into place on
// Commit. Without force an existing file or object is refused. Temporary
// files of path already there are named through warn (unless nil): a
// killed run left them, or another run is writing the same file, which
// will not both succeed.
func Create(ctx context.Context, bs *storage.Buckets, path string, force bool, stdout io.Writer, warn func(error)) (Output, error) {
	if IsStdout(path) {
		return toStdout(stdout), nil
	}
	if storage.IsURL(path) {
		if !force {
			// Checked now so as not to run for nothing; the upload checks
			// again (If-None-Match), for an object created meanwhile.
			exists, err := storage.Exists(ctx, bs, path)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", path, err)
			}
			if exists {
				return nil, &ExistsError{Path: path}
			}
		}
		s, err := newSpool(bs, path, force)
		if err != nil {
			return nil, err
		}
		return objectOutput{s}, nil
	}
	path, err := storage.LocalPath(path)
	if err != nil {
		return nil, err
	}
	stale := outfile.Stale(path)
	f, err := outfile.Create(path, force)
	if err != nil {
		return nil, err
	}
	if len(stale) > 0 && warn != nil {
		warn(fmt.Errorf("temporary files of %s from a killed or concurrent run: %s (delete them once no other run writes %s)",
			path, strings.Join(stale, " "), path))
	}
	return fileOutput{f}, nil
}

// IsStdout reports whether an output path means standard output: "-", or
// no path at all.
func IsStdout(path string) bool { return path == "-" || path == "" }

// toStdout is an output to w that nothing needs to end.
func toStdout(w io.Writer) Output { return stdoutOutput{w} }

type stdoutOutput struct{ io.Writer }

func (stdoutOutput) Checkpoint(context.Context) error { return nil }
func (stdoutOutput) Commit(context.Context) error     { return nil }
func (stdoutOutput) Abort(context.Context) error      { return nil }

// fileOutput is a file written atomically: a failed run leaves no partial
// file behind.
type fileOutput struct{ f *outfile.File }

func (o fileOutput) Write(p []byte) (int, error)    { return o.f.Write(p) }
func (fileOutput) Checkpoint(context.Context) error { return nil }
func (o fileOutput) Commit(context.Context) error   { return o.f.Commit() }
func (o fileOutput) Abort(context.Context) error    { o.f.Abort(); return nil }

// objectOutput is a new object, written once from its spool at the end.
type objectOutput struct{ s *spool }

func (o objectOutput) Write(p []byte) (int, error)    { return o.s.f.Write(p) }
func (objectOutput) Checkpoint(context.Context) error { return nil }
func (o objectOutput) Commit(ctx context.Context) error {
	defer o.s.discard()
	return o.s.upload(ctx)
}
func (o objectOutput) Abort(context.Context) error { o.s.discard(); return nil }

// spool is an output bound for object storage. An object cannot be
// appended to or renamed into place, so rows go to a local spool file and
// the object is written from it: once at the end, or, for a resumed run,
// also every checkpoint interval, so that a preempted run loses at most the
// rows since the last one.
type spool struct {
	bs      *storage.Buckets
	url     string
	f       *os.File
	replace bool
	every   time.Duration
	last    time.Time
	now     func() time.Time
}

// newSpool creates the spool file in the temporary folder.
func newSpool(bs *storage.Buckets, url string, replace bool) (*spool, error) {
	f, err := os.CreateTemp("", "agegender-spool-*")
	if err != nil {
		return nil, fmt.Errorf("output %s: spool file: %w", url, err)
	}
	return &spool{bs: bs, url: url, f: f, replace: replace, now: time.Now, last: time.Now()}, nil
}

// uploadTimeout bounds writing the object from the spool.
const uploadTimeout = 10 * time.Minute

// upload writes the object from the spool. It runs without ctx's
// cancellation: the last upload after Ctrl-C or SIGTERM is what saves the
// finished rows, so it must not be cancelled with the run.
func (s *spool) upload(ctx context.Context) error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("output %s: spool: %w", s.url, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadTimeout)
	defer cancel()
	err := storage.Upload(ctx, s.bs, s.url, s.f.Name(), s.replace)
	if errors.Is(err, storage.ErrExists) {
		return &CreatedMeanwhileError{Path: s.url}
	}
	s.last = s.now()
	return err
}

// due reports whether a checkpoint is due.
func (s *spool) due() bool { return s.every > 0 && s.now().Sub(s.last) >= s.every }

// discard removes the spool.
func (s *spool) discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}
