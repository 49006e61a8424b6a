package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Reading back what the writers of the formats that can be (Spec.NewReader)
// wrote, for merging shards and resuming runs. Names are compared as the
// format writes them (Spec.Key), so a CSV cell that got a leading ' and a
// name that is not UTF-8 still match the input they came from.
//
// A record read back must be one our writers could have written: merge
// copies it into its output and --resume counts its input as done, so a row
// that only looks like ours (a bare {"input": ...}, a CSV face count of
// "one") would pass for a result that was never computed.

// Record is one input as read back.
type Record struct {
	// Key is the input's name as the format writes it; see Key.
	Key string
	// Bytes is the record as the format writes it, its last newline
	// included: what merge copies.
	Bytes []byte
	// Start and End are the record's byte offsets in the file.
	Start, End int64
	// LineNo is the line the record starts on, counted from 1.
	LineNo int
}

// Records reads an output back one input at a time.
type Records interface {
	// Next returns the next input's record, io.EOF after the last, or a
	// *TornError when the file ends inside a record.
	Next() (Record, error)
}

// ErrTorn is returned at the end of a file whose last record was cut short:
// a run killed mid-write. Record.Start of the error's TornError says where
// the whole records end.
var ErrTorn = errors.New("the last row is cut short (a run killed while writing it)")

// TornError carries the offset at which the intact records end.
type TornError struct{ At int64 }

func (e *TornError) Error() string {
	return fmt.Sprintf("%v, at byte %d", ErrTorn, e.At)
}
func (e *TornError) Unwrap() error { return ErrTorn }

// NewRecordReader reads r, the file name, written in format, which must be
// one that is read back.
func NewRecordReader(format Format, r io.Reader, name string) (Records, error) {
	s, err := Lookup(format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !s.Appendable() {
		var names []string
		for _, a := range Appendable() {
			names = append(names, string(a.Name))
		}
		return nil, fmt.Errorf("%s: only %s outputs can be read back, not %s", name, strings.Join(names, " and "), format)
	}
	return s.NewReader(r, name), nil
}

// maxRecordBytes bounds a record read back: one image's faces take
// kilobytes, and a file of one endless line must not take all memory.
const maxRecordBytes = 16 << 20

var errLongLine = errors.New("line too long")

// countReader counts the bytes read and remembers the last one and whether
// the end was reached, so a record at the end can be told whole or torn.
type countReader struct {
	r    io.Reader
	n    int64
	last byte
	eof  bool
	// limit, when set, bounds the bytes read past mark, where the last
	// whole row ended.
	limit, mark int64
}

func (c *countReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.n-c.mark > c.limit {
		return 0, errLongLine
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.last = p[n-1]
	}
	if errors.Is(err, io.EOF) {
		c.eof = true
	}
	return n, err
}
