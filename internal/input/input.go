// Package input lists what a run reads: the Input type, folders walked in
// lexical order, path lists read from stdin, and object storage listings
// in key order. It sits below the worker pool (internal/pipeline), which
// reads inputs, and object storage (internal/storage), which lists and
// opens objects through it, so that neither has to import the other.
package input

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/agegender/agegender/internal/safeio"
)

// Input is one thing to process: a file, an object, or stdin.
type Input struct {
	Name string
	// Rel is the path relative to the argument it was found under,
	// slash-separated ("a/b.jpg" under "photos"); a file named directly is its
	// base name, an error about the argument itself ".". Sharding hashes it,
	// so that the split does not depend on where the data is mounted.
	Rel string
	// Open returns the bytes to decode.
	Open func() (io.ReadCloser, error)
	// Idle is how long a read of it may make no progress before it fails;
	// with Idle set its reads also stop at once when the run is cancelled.
	// A negative Idle (NoIdleLimit) keeps only the latter (stdin, which a
	// person or a slow pipe may feed); 0 reads Open's reader as it is, for
	// readers that cannot block.
	Idle time.Duration
	// Once is set when Open gives the same reader every time (stdin), so
	// the input can be read only once.
	Once bool
	// Err is set when the input failed before it could be opened (a folder
	// that could not be read, a path that does not exist): it is still
	// reported, so that no input is lost.
	Err error
}

// file is an Input that reads a file; anything but a regular file on a real
// file system (a FIFO, a device, a socket, a folder, a file of /proc or /sys,
// also through a link) fails when opened, without blocking.
func file(path string) Input {
	return Input{Name: path, Idle: safeio.DefaultIdle, Open: func() (io.ReadCloser, error) { return safeio.Open(path) }}
}

// NoIdleLimit is an Input.Idle: reads stop when the run is cancelled, and
// may otherwise wait as long as they take.
const NoIdleLimit time.Duration = -1

// Reader is an Input that reads r once, such as stdin.
func Reader(name string, r io.Reader) Input {
	return Input{Name: name, Idle: NoIdleLimit, Once: true, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// Describe words a file system error about the input name as "name:
// reason", naming it once, without the path that os errors repeat; the
// pool words errors in opening and closing an input by it too.
func Describe(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", name, err)
}
