package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// Reading back what CSV and JSON Lines writers wrote, for merging shards and
// resuming runs. Names are compared as the format writes them (Key), so a
// CSV cell that got a leading ' and a name that is not UTF-8 still match
// the input they came from.

// Record is one input as read back: its JSON line, or its CSV rows (one per
// face, consecutive, as the writer puts them).
type Record struct {
	// Key is the input's name as the format writes it; see Key.
	Key string
	// Line is the JSON Lines record with its newline.
	Line []byte
	// Rows are the CSV rows, as written (cells still escaped).
	Rows [][]string
	// Start and End are the record's byte offsets in the file.
	Start, End int64
	// LineNo is the line the record starts on, counted from 1.
	LineNo int
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

// Key is name as format writes it, so that a read-back record can be matched
// with an input: CSV escapes a cell that starts like a formula, and JSON
// carries a name that is not UTF-8 in input_base64.
func Key(format Format, name string) string {
	switch format {
	case FormatCSV:
		return defuse(name)
	default:
		if !utf8.ValidString(name) {
			return b64Key(base64.StdEncoding.EncodeToString([]byte(name)))
		}
		return name
	}
}

// b64Key marks a base64 name with a NUL, which no file name holds, so that
// it cannot equal a real name.
func b64Key(b string) string { return "\x00base64:" + b }

// RecordReader reads a CSV or JSON Lines output one input at a time.
type RecordReader struct {
	format   Format
	name     string // the file, for errors
	cr       *countReader
	br       *bufio.Reader // jsonl
	csv      *csv.Reader
	off      int64    // end of the last record returned
	held     []string // csv: the row read past the end of the last record
	heldAt   int64    // csv: where held ends
	heldLine int      // csv: the line held starts on
	header   bool
	// lastRowLine is where the last CSV row read ends (near enough: its
	// last cell's first line), to place a row too long to read.
	lastRowLine int
	line        int
}

// NewRecordReader reads r, the file name, written in format (csv or jsonl).
func NewRecordReader(format Format, r io.Reader, name string) (*RecordReader, error) {
	rr := &RecordReader{format: format, name: name, cr: &countReader{r: r}}
	switch format {
	case FormatJSONL:
		rr.br = bufio.NewReaderSize(rr.cr, 64<<10)
	case FormatCSV:
		// The CSV reader has no bound of its own on a row (a quoted cell
		// can run to the end of the file).
		rr.cr.limit = maxRecordBytes
		rr.csv = csv.NewReader(rr.cr)
		rr.csv.FieldsPerRecord = len(columns)
		rr.csv.ReuseRecord = false
	default:
		return nil, fmt.Errorf("%s: only csv and jsonl outputs can be read back, not %s", name, format)
	}
	return rr, nil
}

// Next returns the next input's record, io.EOF after the last, or a
// *TornError when the file ends inside a record.
func (rr *RecordReader) Next() (Record, error) {
	if rr.format == FormatJSONL {
		return rr.nextLine()
	}
	return rr.nextRows()
}

func (rr *RecordReader) nextLine() (Record, error) {
	line, err := rr.readLine()
	if errors.Is(err, errLongLine) {
		return Record{}, fmt.Errorf("%s: line %d is longer than %d MB, which no agegender record is", rr.name, rr.line+1, maxRecordBytes>>20)
	}
	start := rr.off
	if len(line) > 0 && line[len(line)-1] != '\n' {
		// A record is written whole with its newline; one without is torn.
		if err == nil || errors.Is(err, io.EOF) {
			return Record{}, &TornError{At: start}
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("read %s: %w", rr.name, err)
	}
	rr.line++
	key, err := parseJSONRecord(line)
	if err != nil {
		return Record{}, fmt.Errorf("%s: line %d %w: %.60q", rr.name, rr.line, err, line)
	}
	rr.off += int64(len(line))
	return Record{Key: key, Line: line, Start: start, End: rr.off, LineNo: rr.line}, nil
}

// maxRecordBytes bounds a JSON Lines record read back: one image's faces
// take kilobytes, and a file of one endless line must not take all memory.
const maxRecordBytes = 16 << 20

var errLongLine = errors.New("line too long")

// readLine is ReadBytes('\n') that gives up past maxRecordBytes.
func (rr *RecordReader) readLine() ([]byte, error) {
	var line []byte
	for {
		part, err := rr.br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxRecordBytes {
			return nil, errLongLine
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

func (rr *RecordReader) readRow() ([]string, error) {
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

func (rr *RecordReader) nextRows() (Record, error) {
	if !rr.header {
		row, err := rr.readRow()
		if errors.Is(err, io.EOF) || errors.Is(err, errTornRow) {
			if rr.cr.n == 0 {
				return Record{}, io.EOF
			}
			return Record{}, &TornError{At: 0}
		}
		if err != nil {
			return Record{}, err
		}
		if rr.cr.eof && rr.csv.InputOffset() == rr.cr.n && rr.cr.last != '\n' {
			return Record{}, &TornError{At: 0}
		}
		if !slices.Equal(row, columns[:]) {
			return Record{}, fmt.Errorf("%s: the first line is not agegender's CSV header (%q)", rr.name, row)
		}
		rr.header = true
		rr.off = rr.csv.InputOffset()
	}
	start := rr.off
	rec := Record{Start: start}
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
				if len(rec.Rows) == 0 {
					return Record{}, io.EOF
				}
				return rr.finish(rec)
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
		if len(rec.Rows) > 0 && row[0] != rec.Key {
			rr.held, rr.heldAt, rr.heldLine = row, end, lineNo
			return rr.finish(rec)
		}
		if len(rec.Rows) == 0 {
			rec.LineNo = lineNo
		}
		rec.Key = row[0]
		rec.Rows = append(rec.Rows, row)
		rec.End = end
	}
}

// finish checks that a record that ends the file ended with its newline:
// a row cut inside its last cell still parses.
func (rr *RecordReader) finish(rec Record) (Record, error) {
	if rr.held == nil && rr.cr.eof && rec.End == rr.cr.n && rr.cr.last != '\n' {
		return Record{}, &TornError{At: rec.Start}
	}
	rr.off = rec.End
	return rec, nil
}

// WriteRecord writes rec as the format writes it: the same bytes the batch
// wrote, since encoding/csv writes a row one way only.
func WriteRecord(format Format, w io.Writer, cw *csv.Writer, rec Record) error {
	if format == FormatJSONL {
		_, err := w.Write(rec.Line)
		return err
	}
	if err := cw.WriteAll(rec.Rows); err != nil {
		return err
	}
	return nil
}

// CSVHeader is the header line CSV outputs start with.
func CSVHeader() []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(columns[:])
	cw.Flush()
	return b.Bytes()
}

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
