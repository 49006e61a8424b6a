package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/agegender/agegender/internal/face"
)

// csvFormat is one row per face under a header; a row per face means a
// record read back at the end may lack faces (PartialLast).
func csvFormat() Spec {
	return Spec{
		Name: FormatCSV, Title: "CSV", Ext: ".csv",
		NewWriter: func(w io.Writer, opts Options) Writer {
			c := newCSVWriter(w)
			c.header = opts.NoHeader
			return c
		},
		NewReader: func(r io.Reader, name string) Records { return newCSVRecords(r, name) },
		Key:       defuse,
		// The header's first byte: the input column.
		Recognise:   func(head []byte) bool { return head[0] == 'i' },
		Header:      csvHeader(),
		PartialLast: true,
	}
}

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

// csvHeader is the header line CSV outputs start with.
func csvHeader() []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(columns[:])
	cw.Flush()
	return b.Bytes()
}

// csvRecords reads a CSV output back: an input's record is its rows, one
// per face, consecutive, as the writer puts them.
type csvRecords struct {
	name     string // the file, for errors
	cr       *countReader
	csv      *csv.Reader
	off      int64    // end of the last record returned
	held     []string // the row read past the end of the last record
	heldAt   int64    // where held ends
	heldLine int      // the line held starts on
	header   bool
	// lastRowLine is where the last row read ends (near enough: its last
	// cell's first line), to place a row too long to read.
	lastRowLine int
}

func newCSVRecords(r io.Reader, name string) *csvRecords {
	// The CSV reader has no bound of its own on a row (a quoted cell can
	// run to the end of the file).
	rr := &csvRecords{name: name, cr: &countReader{r: r, limit: maxRecordBytes}}
	rr.csv = csv.NewReader(rr.cr)
	rr.csv.FieldsPerRecord = len(columns)
	rr.csv.ReuseRecord = false
	return rr
}

func (rr *csvRecords) readRow() ([]string, error) {
	row, err := rr.csv.Read()
	if err == nil {
		rr.cr.mark = rr.csv.InputOffset()
		rr.lastRowLine, _ = rr.csv.FieldPos(len(row) - 1)
		return row, nil
	}
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if errors.Is(err, errLongLine) {
		return nil, fmt.Errorf("%s: the row after line %d is longer than %d MB, which no agegender row is", rr.name, rr.lastRowLine, maxRecordBytes>>20)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && rr.cr.eof && rr.csv.InputOffset() == rr.cr.n {
		// The parser ran into the end of the file mid-row: a killed writer.
		return nil, errTornRow
	}
	return nil, fmt.Errorf("%s: %w", rr.name, err)
}

var errTornRow = errors.New("torn row")

// readHeader reads and checks the header line.
func (rr *csvRecords) readHeader() error {
	row, err := rr.readRow()
	if errors.Is(err, io.EOF) || errors.Is(err, errTornRow) {
		if rr.cr.n == 0 {
			return io.EOF
		}
		return &TornError{At: 0}
	}
	if err != nil {
		return err
	}
	if rr.cr.eof && rr.csv.InputOffset() == rr.cr.n && rr.cr.last != '\n' {
		return &TornError{At: 0}
	}
	if !slices.Equal(row, columns[:]) {
		return fmt.Errorf("%s: the first line is not agegender's CSV header (%q)", rr.name, row)
	}
	rr.header = true
	rr.off = rr.csv.InputOffset()
	return nil
}

// Next returns the next input's rows: those up to the first row of
// another input.
func (rr *csvRecords) Next() (Record, error) {
	if !rr.header {
		if err := rr.readHeader(); err != nil {
			return Record{}, err
		}
	}
	start := rr.off
	rec := Record{Start: start}
	var rows [][]string
	for {
		var row []string
		var end int64
		var lineNo int
		if rr.held != nil {
			row, end, lineNo, rr.held = rr.held, rr.heldAt, rr.heldLine, nil
		} else {
			r, err := rr.readRow()
			switch {
			case errors.Is(err, errTornRow):
				return Record{}, &TornError{At: start}
			case errors.Is(err, io.EOF):
				if len(rows) == 0 {
					return Record{}, io.EOF
				}
				return rr.finish(rec, rows)
			case err != nil:
				return Record{}, err
			}
			row, end = r, rr.csv.InputOffset()
			lineNo, _ = rr.csv.FieldPos(0)
			if err := checkCSVRow(row); err != nil {
				if rr.cr.eof && end == rr.cr.n && rr.cr.last != '\n' {
					// A row cut inside a number still parses.
					return Record{}, &TornError{At: start}
				}
				return Record{}, fmt.Errorf("%s: line %d: %w", rr.name, lineNo, err)
			}
		}
		if len(rows) > 0 && row[0] != rec.Key {
			rr.held, rr.heldAt, rr.heldLine = row, end, lineNo
			return rr.finish(rec, rows)
		}
		if len(rows) == 0 {
			rec.LineNo = lineNo
		}
		rec.Key = row[0]
		rows = append(rows, row)
		rec.End = end
	}
}

// finish checks that a record that ends the file ended with its newline (a
// row cut inside its last cell still parses), and writes its rows as the
// writer writes them: encoding/csv writes a row one way only, so merge
// copies the bytes the batch wrote.
func (rr *csvRecords) finish(rec Record, rows [][]string) (Record, error) {
	if rr.held == nil && rr.cr.eof && rec.End == rr.cr.n && rr.cr.last != '\n' {
		return Record{}, &TornError{At: rec.Start}
	}
	rr.off = rec.End
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	if err := cw.WriteAll(rows); err != nil {
		return Record{}, fmt.Errorf("%s: line %d: %w", rr.name, rec.LineNo, err)
	}
	rec.Bytes = b.Bytes()
	return rec, nil
}

// checkCSVRow checks the cells of one CSV row: numbers where the writer puts
// numbers, true or false in detected, and either a face's cells all set or
// (an input with no face) all empty.
func checkCSVRow(row []string) error {
	faceCell, detected := row[1], row[2]
	if faceCell == "" {
		for i := 2; i < len(row)-1; i++ {
			if row[i] != "" {
				return fmt.Errorf("%s %q is set in a row with no face", columns[i], row[i])
			}
		}
		return nil
	}
	if n, err := strconv.Atoi(faceCell); err != nil || n < 0 {
		return fmt.Errorf("face %q is not a whole number", faceCell)
	}
	if detected != "true" && detected != "false" {
		return fmt.Errorf("detected %q is not true or false", detected)
	}
	for _, i := range numberColumns {
		if !isNumber(row[i]) {
			return fmt.Errorf("%s %q is not a number", columns[i], row[i])
		}
	}
	low, high := row[intervalColumns[0]], row[intervalColumns[1]]
	if (low == "") != (high == "") || (low != "" && !(isNumber(low) && isNumber(high))) {
		return fmt.Errorf("age_low %q and age_high %q are not both numbers or both empty", low, high)
	}
	return nil
}

func isNumber(cell string) bool {
	v, err := strconv.ParseFloat(cell, 64)
	return err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}
