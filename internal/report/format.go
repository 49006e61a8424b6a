package report

import (
	"fmt"
	"io"
	"path"
	"strings"
)

// Format names an output format as --format spells it.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatCSV   Format = "csv"
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
)

// Spec is all the rest of the program knows of a format: commands, batch's
// resume and merge ask it rather than naming formats, so that a format is
// added in a file of its own and its line in Formats.
type Spec struct {
	Name Format
	// Title names the format in messages ("CSV", "JSON Lines").
	Title string
	// Ext is the extension of a file in the format, with its dot: an
	// output path that ends with it asks for the format (ByExt).
	Ext string
	// NewWriter starts writing the format to w.
	NewWriter func(w io.Writer, opts Options) Writer
	// NewReader reads a file of the format back one input at a time, and
	// is nil for a format that cannot be: one with something after the
	// last record (a JSON array's bracket) or that is written only at the
	// end (the table). Only formats read back can be appended to (batch
	// --resume) and merged.
	NewReader func(r io.Reader, name string) Records
	// Key is an input's name as the format writes it, to match a record
	// read back with its input; set at least with NewReader.
	Key func(name string) string
	// Recognise reports whether a file that starts with head (at least
	// one byte) is in the format; set with NewReader.
	Recognise func(head []byte) bool
	// Header is what a file begins with before its first record, and
	// holds even with no records: what merge writes first, and what
	// Options.NoHeader leaves out.
	Header []byte
	// PartialLast is set where the last record read back may lack part of
	// its input's result that a killed run never wrote (CSV: a row per
	// face), so that a resumed run does that input again.
	PartialLast bool
}

// Appendable reports whether a file in the format can be read back, and so
// appended to and merged.
func (s Spec) Appendable() bool { return s.NewReader != nil }

// Formats is the registry: every format, in the order help and messages
// list them. A function, not a variable, so that nothing can change it.
func Formats() []Spec {
	return []Spec{tableFormat(), csvFormat(), jsonFormat(), jsonlFormat()}
}

// Lookup is the format named name; its error lists the formats there are.
func Lookup(name Format) (Spec, error) {
	for _, s := range Formats() {
		if s.Name == name {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("unknown format %q; the formats are %s", name, strings.Join(Names(), ", "))
}

// ByExt is the format whose extension the output name ends with, any case,
// and def where none does. A URL's query (s3://b/x.csv?region=...) is not
// part of its name.
func ByExt(name string, def Format) Format {
	if strings.Contains(name, "://") {
		name, _, _ = strings.Cut(name, "?")
	}
	ext := strings.ToLower(path.Ext(name))
	for _, s := range Formats() {
		if ext != "" && s.Ext == ext {
			return s.Name
		}
	}
	return def
}

// Names lists the formats' names, for help and messages.
func Names() []string {
	var names []string
	for _, s := range Formats() {
		names = append(names, string(s.Name))
	}
	return names
}

// Recognise is the format, among those read back, of a file that starts
// with head, which holds at least one byte.
func Recognise(head []byte) (Spec, bool) {
	for _, s := range Formats() {
		if s.Recognise != nil && len(head) > 0 && s.Recognise(head) {
			return s, true
		}
	}
	return Spec{}, false
}

// Appendable lists the formats that can be read back, appended to and
// merged.
func Appendable() []Spec {
	var out []Spec
	for _, s := range Formats() {
		if s.Appendable() {
			out = append(out, s)
		}
	}
	return out
}

// Set and String make *Format a flag.Value (and pflag's, with Type), so
// that a flag refuses a name the registry lacks, listing the ones it has.
func (f *Format) Set(name string) error {
	s, err := Lookup(Format(name))
	if err != nil {
		return err
	}
	*f = s.Name
	return nil
}

func (f *Format) String() string { return string(*f) }

// Type names the flag's value in pflag's help, as for any string.
func (f *Format) Type() string { return "string" }

// New returns a Writer for format writing to w.
func New(format Format, w io.Writer, opts Options) (Writer, error) {
	s, err := Lookup(format)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return s.NewWriter(w, opts), nil
}

// Key is name as format writes it, so that a read-back record can be matched
// with an input: CSV escapes a cell that starts like a formula, and JSON
// carries a name that is not UTF-8 in input_base64. A format that is not
// read back keeps the name as it is.
func Key(format Format, name string) string {
	if s, err := Lookup(format); err == nil && s.Key != nil {
		return s.Key(name)
	}
	return name
}
