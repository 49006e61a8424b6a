package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/agegender/agegender/internal/face"
)

// jsonlFormat is one compact JSON object per input and line, written whole
// with its newline: a record read back is all of its input's result.
func jsonlFormat() Spec {
	return Spec{
		Name: FormatJSONL, Title: "JSON Lines", Ext: ".jsonl",
		NewWriter: func(w io.Writer, _ Options) Writer { return newJSONWriter(w, true) },
		NewReader: func(r io.Reader, name string) Records { return newJSONLRecords(r, name) },
		Key:       jsonKey,
		Recognise: func(head []byte) bool { return head[0] == '{' },
	}
}

// jsonlRecords reads a JSON Lines output back, a line at a time.
type jsonlRecords struct {
	name string // the file, for errors
	br   *bufio.Reader
	off  int64 // end of the last record returned
	line int
}

func newJSONLRecords(r io.Reader, name string) *jsonlRecords {
	return &jsonlRecords{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next line's record.
func (rr *jsonlRecords) Next() (Record, error) {
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
	return Record{Key: key, Bytes: line, Start: start, End: rr.off, LineNo: rr.line}, nil
}

// readLine is ReadBytes('\n') that gives up past maxRecordBytes.
func (rr *jsonlRecords) readLine() ([]byte, error) {
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

// jsonRecord is what a JSON Lines record must hold: the input, and a result
// (faces, maybe empty, and the detection mode; an error beside them).
type jsonRecord struct {
	Input       *string      `json:"input"`
	InputBase64 string       `json:"input_base64"`
	Detect      *face.Mode   `json:"detect"`
	Faces       *[]face.Face `json:"faces"`
	Error       string       `json:"error"`
}

// parseJSONRecord checks one JSON Lines record and returns its key.
func parseJSONRecord(line []byte) (string, error) {
	var v jsonRecord
	if err := json.Unmarshal(line, &v); err != nil {
		return "", fmt.Errorf("is not an agegender JSON Lines record (%v)", err)
	}
	switch {
	case v.Input == nil:
		return "", fmt.Errorf("is not an agegender JSON Lines record (no input field)")
	case v.Faces == nil || v.Detect == nil:
		return "", fmt.Errorf("is not a whole agegender record: it has no result (faces and detect)")
	}
	if v.InputBase64 != "" {
		return b64Key(v.InputBase64), nil
	}
	return *v.Input, nil
}
