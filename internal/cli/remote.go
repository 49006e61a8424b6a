package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/agegender/agegender/internal/storage"
)

// remote is object storage for one command: each bucket opened once, and
// closed when the command ends.
type remote struct {
	ctx context.Context
	bs  *storage.Buckets
}

func newRemote(ctx context.Context) *remote {
	return &remote{ctx: ctx, bs: storage.NewBuckets()}
}

func (r *remote) close() error { return r.bs.Close() }

// spoolObject is an output bound for object storage. An object cannot be
// appended to or renamed into place, so rows go to a local spool file and
// the object is written from it: once at the end, or, for --resume, also
// every checkpoint interval, so that a preempted run loses at most the rows
// since the last one.
type spoolObject struct {
	r       *remote
	url     string
	spool   *os.File
	replace bool
	every   time.Duration
	last    time.Time
}

// newSpool creates the spool file in the temporary folder.
func newSpool(r *remote, url string, replace bool) (*spoolObject, error) {
	f, err := os.CreateTemp("", "agegender-spool-*")
	if err != nil {
		return nil, fmt.Errorf("output %s: spool file: %w", url, err)
	}
	return &spoolObject{r: r, url: url, spool: f, replace: replace, last: time.Now()}, nil
}

// upload writes the object from the spool.
func (s *spoolObject) upload() error {
	if err := s.spool.Sync(); err != nil {
		return fmt.Errorf("output %s: spool: %w", s.url, err)
	}
	ctx, cancel := s.r.uploadContext()
	defer cancel()
	err := storage.Upload(ctx, s.r.bs, s.url, s.spool.Name(), s.replace)
	if errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("output %s was created by something else during the run and is kept (no --force)", s.url)
	}
	s.last = time.Now()
	return err
}

// due reports whether a checkpoint is due.
func (s *spoolObject) due() bool { return s.every > 0 && time.Since(s.last) >= s.every }

// discard removes the spool.
func (s *spoolObject) discard() {
	s.spool.Close()
	os.Remove(s.spool.Name())
}

// uploadContext is the command's context without its cancellation: the
// last upload after Ctrl-C or SIGTERM is what saves the finished rows, so it
// must not be cancelled with the run. It still ends within a bound.
func (r *remote) uploadContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.ctx), 10*time.Minute)
}

// downloadTo copies the object at url into f; found is false if there is none.
func (r *remote) downloadTo(url string, f io.Writer) (bool, error) {
	return storage.Download(r.ctx, r.bs, url, f)
}
