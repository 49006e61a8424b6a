package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/agegender/agegender/internal/face"
)

// jsonFormat is one JSON array of every input's object: its closing
// bracket comes after the last, so it is not read back or appended to.
func jsonFormat() Spec {
	return Spec{
		Name: FormatJSON, Title: "JSON array", Ext: ".json",
		NewWriter: func(w io.Writer, _ Options) Writer { return newJSONWriter(w, false) },
		Key:       jsonKey,
	}
}

// jsonKey is a name as JSON writes it: one that is not UTF-8 is carried in
// input_base64, and its key is that.
func jsonKey(name string) string {
	if !utf8.ValidString(name) {
		return b64Key(base64.StdEncoding.EncodeToString([]byte(name)))
	}
	return name
}

// b64Key marks a base64 name with a NUL, which no file name holds, so that
// it cannot equal a real name.
func b64Key(b string) string { return "\x00base64:" + b }

// jsonImage is the JSON shape of one input. It is separate from face.Image
// because Err is an error value, which encoding/json cannot marshal, and
// because Faces must be [] rather than null for consumers that index it.
// Width and height are omitted when unknown (the input could not be decoded).
type jsonImage struct {
	Input string `json:"input"`
	// InputBase64 holds the name's exact bytes (standard base64) when they
	// are not valid UTF-8: JSON strings are Unicode, so Input shows each bad
	// byte as U+FFFD, and two names differing only there would look alike.
	InputBase64 string      `json:"input_base64,omitempty"`
	Width       int         `json:"width,omitempty"`
	Height      int         `json:"height,omitempty"`
	Detect      face.Mode   `json:"detect"`
	Faces       []face.Face `json:"faces"`
	Error       string      `json:"error,omitempty"`
}

func toJSON(im face.Image) jsonImage {
	faces := make([]face.Face, len(im.Faces))
	for i, f := range im.Faces {
		faces[i] = unsignedZeros(f)
	}
	var raw string
	if !utf8.ValidString(im.Input) {
		raw = base64.StdEncoding.EncodeToString([]byte(im.Input))
	}
	return jsonImage{
		Input:       im.Input,
		InputBase64: raw,
		Width:       im.Width,
		Height:      im.Height,
		Detect:      im.Detect,
		Faces:       faces,
		Error:       im.ErrorText(),
	}
}

// jsonWriter writes either one JSON array (json) or one object per line
// (jsonl). Each input is encoded and written whole, so an interrupted json
// run leaves an array that lacks only its closing bracket.
type jsonWriter struct {
	w      io.Writer
	lines  bool // jsonl
	buf    bytes.Buffer
	enc    *json.Encoder
	n      int // inputs written
	closed bool
}

func newJSONWriter(w io.Writer, lines bool) *jsonWriter {
	j := &jsonWriter{w: w, lines: lines}
	j.enc = json.NewEncoder(&j.buf)
	// File names with & or < are common enough; \u0026 helps no one here.
	j.enc.SetEscapeHTML(false)
	if !lines {
		// Objects sit one level inside the array.
		j.enc.SetIndent("  ", "  ")
	}
	return j
}

func (j *jsonWriter) Write(im face.Image) error {
	if j.closed {
		return errClosed
	}
	j.buf.Reset()
	switch {
	case j.lines:
	case j.n == 0:
		j.buf.WriteString("[\n  ")
	default:
		j.buf.WriteString(",\n  ")
	}
	if err := j.enc.Encode(toJSON(im)); err != nil {
		return fmt.Errorf("encode JSON for %s: %w", im.Input, err)
	}
	if !j.lines {
		// Encode ends with a newline; the separator or Close supplies it.
		j.buf.Truncate(j.buf.Len() - 1)
	}
	if _, err := j.w.Write(j.buf.Bytes()); err != nil {
		return fmt.Errorf("write JSON for %s: %w", im.Input, err)
	}
	j.n++
	return nil
}

func (j *jsonWriter) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if j.lines {
		return nil
	}
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(j.w, end); err != nil {
		return fmt.Errorf("write JSON array end: %w", err)
	}
	return nil
}

// unsignedZeros returns f with every -0 made 0, on a copy of its keypoints:
// encoding/json writes -0, a sign that means nothing (a box edge or an age a
// hair below zero, rounded), as CSV's fixed drops it.
func unsignedZeros(f face.Face) face.Face {
	z := func(v *float64) {
		if *v == 0 {
			*v = 0
		}
	}
	z(&f.Box.X)
	z(&f.Box.Y)
	z(&f.Box.W)
	z(&f.Box.H)
	z(&f.Score)
	z(&f.Age)
	z(&f.GenderProbability)
	if f.Keypoints != nil {
		kp := make([]face.Point, len(f.Keypoints))
		for i, p := range f.Keypoints {
			z(&p.X)
			z(&p.Y)
			kp[i] = p
		}
		f.Keypoints = kp
	}
	return f
}
