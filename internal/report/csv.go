package report

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/agegender/agegender/internal/result"
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

func (c *csvWriter) Write(im result.Image) error {
	if c.closed {
		return errClosed
	}
	if err := c.writeHeader(); err != nil {
		return err
	}
	for _, r := range rows(im) {
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
