package report

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// Whatever a name holds, Terminal leaves one line of valid UTF-8 with
// nothing a terminal acts on, and leaves printable names as they are.
func FuzzTerminal(f *testing.F) {
	for _, s := range append(lying, "plain.jpg", "名前.png", "\xff\xfe", "a\\nb") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Terminal(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Terminal(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidi(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("Terminal(%q) = %q keeps %U", s, got, r)
			}
		}
		if !needsEscape(s) && got != s {
			t.Fatalf("Terminal(%q) = %q changed a printable name", s, got)
		}
	})
}

// Reading back any bytes never panics, and a record it accepts is written
// back byte for byte (what merge copies and --resume keeps).
func FuzzRecordReader(f *testing.F) {
	f.Add([]byte("{\"input\":\"a\",\"detect\":\"auto\",\"faces\":[]}\n{\"input\":\"b\"}\n"), false)
	f.Add(append(csvHeader(), "a.jpg,0,true,1,2,3,4,0.9,30.5,female,0.8,\nb.jpg,,,,,,,,,,,x: failed\nb.jpg,one,maybe,,,,,,,,,\n"...), true)
	f.Fuzz(func(t *testing.T, data []byte, csvFormat bool) {
		format := FormatJSONL
		if csvFormat {
			format = FormatCSV
		}
		rr, err := NewRecordReader(format, bytes.NewReader(data), "f")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 1000; i++ {
			rec, err := rr.Next()
			if err != nil {
				return
			}
			if format == FormatJSONL && !bytes.Equal(data[rec.Start:rec.End], rec.Bytes) {
				t.Fatalf("record %d: %q is not the file's bytes %q", i, rec.Bytes, data[rec.Start:rec.End])
			}
			if rec.LineNo < 1 || rec.End <= rec.Start {
				t.Fatalf("record %d: line %d, bytes %d..%d", i, rec.LineNo, rec.Start, rec.End)
			}
		}
	})
}
