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
