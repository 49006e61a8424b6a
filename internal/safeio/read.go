package safeio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/agegender/agegender/internal/bytesize"
)

// DefaultIdle is how long a read of a local file may make no progress. A
// regular file on a healthy disk answers in milliseconds; a hung network
// mount or FUSE server would otherwise hold the run forever.
const DefaultIdle = 30 * time.Second

// ErrStalled is wrapped by the error of a read that made no progress for its
// idle timeout.
var ErrStalled = errors.New("stalled")

// idleReader makes each Read on r in a goroutine of its own and gives up on
// it when ctx ends or idle passes with no answer: a read blocked in the
// kernel or on a network body cannot be interrupted, but the caller need not
// wait for it. A read given up on keeps its goroutine until r answers or the
// process ends; r is not read again.
type idleReader struct {
	ctx  context.Context
	r    io.Reader
	idle time.Duration
	buf  []byte
	err  error // sticky, once a read was given up on
}

type readResult struct {
	n   int
	err error
}

// maxChunk bounds the buffer each read goes through.
const maxChunk = 256 << 10

// NewIdleReader returns a reader over r whose reads fail with ErrStalled
// after idle without progress (never, when idle is 0), and with ctx's error
// once ctx ends.
func NewIdleReader(ctx context.Context, r io.Reader, idle time.Duration) io.Reader {
	return &idleReader{ctx: ctx, r: r, idle: idle}
}

func (t *idleReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := t.ctx.Err(); err != nil {
		return 0, err
	}
	n := min(len(p), maxChunk)
	if cap(t.buf) < n {
		t.buf = make([]byte, n)
	}
	buf := t.buf[:n]
	done := make(chan readResult, 1)
	go func() {
		n, err := t.r.Read(buf)
		done <- readResult{n, err}
	}()
	var expired <-chan time.Time // never, with no idle timeout
	if t.idle > 0 {
		timer := time.NewTimer(t.idle)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case res := <-done:
		copy(p, buf[:res.n])
		return res.n, res.err
	case <-expired:
		t.err = fmt.Errorf("%w: no data for %v", ErrStalled, t.idle)
	case <-t.ctx.Done():
		t.err = t.ctx.Err()
	}
	// The goroutine still owns buf; the next reader must not share it.
	t.buf = nil
	return 0, t.err
}

// idleReadCloser is an idleReader that closes what it reads.
type idleReadCloser struct {
	io.Reader
	io.Closer
}

// NewIdleReadCloser is NewIdleReader for an io.ReadCloser.
func NewIdleReadCloser(ctx context.Context, rc io.ReadCloser, idle time.Duration) io.ReadCloser {
	return idleReadCloser{NewIdleReader(ctx, rc, idle), rc}
}

// ReadFile reads the regular file path whole, refusing more than max bytes
// and an empty file, with reads that fail after DefaultIdle without progress
// or once ctx ends. what names the file in errors ("model", "face
// detector").
func ReadFile(ctx context.Context, path string, max int64, what string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, unwrapPath(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, fmt.Errorf("%s %s: %s, over the %s limit", what, path, bytesize.Amount(st.Size()), bytesize.Limit(max))
	}
	data, err := io.ReadAll(io.LimitReader(NewIdleReader(ctx, f, DefaultIdle), max+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read: %w", what, path, err)
	}
	if int64(len(data)) > max {
		// It grew while being read.
		return nil, fmt.Errorf("%s %s: over the %s limit", what, path, bytesize.Limit(max))
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s %s: the file is empty", what, path)
	}
	return data, nil
}

// unwrapPath drops the path an os error repeats, since the caller names it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Size is the number of bytes r will give, when it knows: a regular file's
// size, or an object's (a reader with a Size method), also through
// NewIdleReadCloser. A caller that reserves memory for the bytes before it
// reads them needs it; the file may still change, so a read must stop at it.
func Size(r io.Reader) (int64, bool) {
	if irc, ok := r.(idleReadCloser); ok {
		if inner, ok := irc.Closer.(io.Reader); ok {
			return Size(inner)
		}
	}
	switch v := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		st, err := v.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0, false
		}
		return st.Size(), true
	case interface{ Size() int64 }:
		return v.Size(), true
	}
	return 0, false
}
