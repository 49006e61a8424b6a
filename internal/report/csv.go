package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/agegender/agegender/internal/face"
)

// csvWriter flushes after every input so that a batch that is interrupted, or
// read through a pipe as it runs, leaves only whole rows behind.
type csvWriter struct {
	w      *csv.Writer
	header bool // header written
	closed bool
}

func newCSVWriter(w io.Writer) *csvWriter {
	return &csvWriter{w: csv.NewWriter(w)}
}

func (c *csvWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if err := c.w.Write(columns[:]); err != nil {
		return fmt.Errorf("write CSV header: %w", err)
	}
	return nil
}

func (c *csvWriter) Write(im face.Image) error {
	if c.closed {
		return errClosed
	}
	if err := c.writeHeader(); err != nil {
		return err
	}
	for _, r := range rows(im) {
		for _, i := range textColumns {
			r[i] = defuse(r[i])
		}
		if err := c.w.Write(r); err != nil {
			return fmt.Errorf("write CSV row for %s: %w", im.Input, err)
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write CSV row for %s: %w", im.Input, err)
	}
	return nil
}

// Close writes the header if no input was written, so that even an empty
// batch yields a well-formed CSV file.
func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("flush CSV: %w", err)
	}
	return nil
}

// textColumns are the CSV cells that hold free text (a file name, an error
// that starts with one); the others hold numbers, booleans and labels.
var textColumns = [...]int{0, len(columns) - 1}

// defuse escapes a cell that a spreadsheet would run as a formula: one that
// starts with = + - @, a tab or a carriage return gets a leading single
// quote (OWASP's CSV injection advice), so that a file named
// "=HYPERLINK(...).jpg" shows as text. Number cells are left alone: a
// negative box edge is not a formula.
func defuse(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
