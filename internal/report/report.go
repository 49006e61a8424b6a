// Package report writes agegender results as a table, CSV, JSON or JSON Lines.
//
// Writers are streaming: Write is called once per input, in output order, so a
// batch over a million files never holds its results in memory. The one
// exception is the table, whose column widths depend on every row: it buffers
// rows and renders on Close, which is why large batches should use csv or
// jsonl.
//
// Table, CSV: one row per face; an input that failed or has no face still
// gets exactly one row, with empty face cells, so every input is accounted
// for. Columns are fixed, numbers are rounded for reading: box
// to integers, score and gender_probability to 3 decimals, age to 1 decimal.
//
// JSON, JSON Lines: one object per input (not per face), with the full
// precision of the estimates. The json format indents each object by two
// spaces inside the array, so the output reads like `jq .` and still
// streams; jsonl is compact, one object per line, for line-oriented tools.
//
// The table on a terminal (Options.TTY) has light box borders and upper-case
// headers. Elsewhere it is plain aligned text: no borders, headers spelt as the
// CSV columns, no trailing spaces, so it diffs and greps cleanly.
//
// Each format is a Spec in one file (table.go, csv.go, json.go, jsonl.go),
// listed in Formats (format.go): commands choose a format by name or by
// the output's extension, and batch's resume and merge ask the Spec whether
// a file can be read back, how it is recognised and how its records end.
package report

import (
	"errors"
	"strconv"
	"strings"

	"github.com/agegender/agegender/internal/face"
)

// Writer receives results one input at a time, so that output can start
// before the batch ends and memory stays flat (except for the table).
type Writer interface {
	// Write reports one input. Inputs are written in output order.
	Write(im face.Image) error
	// Close completes the output (closing bracket, rendered table) and
	// flushes it. It does not close the underlying io.Writer.
	Close() error
}

// Options tunes output for where it goes.
type Options struct {
	// TTY is true when the output is a terminal: the table then gets borders
	// and upper-case headers, which only get in the way in a file or pipe.
	TTY bool
	// NoHeader leaves out the format's Spec.Header: the records are
	// appended to a file that has one (batch --resume).
	NoHeader bool
}

// errClosed is returned by Write after Close: the output is already complete,
// and appending would corrupt it (a row after the JSON array's bracket).
var errClosed = errors.New("report: write after close")

// columns are the table and CSV columns, in order. They are fixed so that
// scripts can address them by position as well as by name. age_low and
// age_high are empty for a model without an age distribution.
var columns = [...]string{
	"input", "face", "detected", "x", "y", "w", "h",
	"score", "age", "age_low", "age_high", "gender", "gender_probability", "error",
}

// Positions of the number columns, for the table's alignment and the
// check of a row read back: those always set for a face, and the age
// interval's, which may be empty.
var (
	numberColumns   = []int{3, 4, 5, 6, 7, 8, 12}
	intervalColumns = []int{9, 10}
)

// rows flattens one input into table/CSV rows: one per face, or a single row
// with empty face cells, so that no input silently disappears from the output.
func rows(im face.Image) [][]string {
	errText := im.ErrorText()
	if len(im.Faces) == 0 {
		r := make([]string, len(columns))
		r[0] = im.Input
		r[len(r)-1] = errText
		return [][]string{r}
	}
	out := make([][]string, 0, len(im.Faces))
	for _, f := range im.Faces {
		out = append(out, []string{
			im.Input,
			strconv.Itoa(f.Index),
			strconv.FormatBool(f.Detected),
			fixed(f.Box.X, 0),
			fixed(f.Box.Y, 0),
			fixed(f.Box.W, 0),
			fixed(f.Box.H, 0),
			fixed(f.Score, 3),
			fixed(f.Age, 1),
			optional(f.AgeLow, 1),
			optional(f.AgeHigh, 1),
			f.Gender,
			fixed(f.GenderProbability, 3),
			errText,
		})
	}
	return out
}

// optional is fixed for a value that may be absent (empty).
func optional(v *float64, prec int) string {
	if v == nil {
		return ""
	}
	return fixed(*v, prec)
}

// fixed formats v with prec decimals, never as "-0" or "-0.0": a box edge a
// hair outside the image or an age a hair below zero would otherwise print a
// sign that means nothing.
func fixed(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if s[0] == '-' && strings.Trim(s[1:], "0.") == "" {
		return s[1:]
	}
	return s
}
