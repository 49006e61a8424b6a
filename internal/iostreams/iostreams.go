// Package iostreams holds a command's standard streams and what it needs to
// know about them: which are terminals, and the environment it reads.
package iostreams

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams and whether each is a
// terminal; tests swap in buffers and set the flags they need.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	OutTTY, ErrTTY bool

	// Getenv reads the environment (the scheduler's shard variables);
	// tests give each run its own.
	Getenv func(string) string
}

// System returns the process's real streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
	}
}

// StickyOut returns streams whose Out remembers its first write error, and
// a function that reports it.
func (ios *IOStreams) StickyOut() (*IOStreams, func() error) {
	out := &stickyWriter{w: ios.Out}
	streams := *ios
	streams.Out = out
	return &streams, func() error { return out.err }
}

// stickyWriter remembers the first write error.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}
