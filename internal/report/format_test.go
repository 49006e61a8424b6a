package report

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// Every format in the registry is whole: a name, an extension of its own,
// a writer; one that is read back also says how its names are keyed and
// how a file of it is recognised.
func TestRegistryIsWhole(t *testing.T) {
	names, exts := map[Format]bool{}, map[string]bool{}
	for _, s := range Formats() {
		if s.Name == "" || s.Title == "" || !strings.HasPrefix(s.Ext, ".") || s.NewWriter == nil {
			t.Errorf("%q: incomplete Spec %+v", s.Name, s)
		}
		if names[s.Name] || exts[s.Ext] {
			t.Errorf("%q: its name or extension %q is another format's", s.Name, s.Ext)
		}
		names[s.Name], exts[s.Ext] = true, true
		if s.Appendable() && (s.Key == nil || s.Recognise == nil) {
			t.Errorf("%s is read back but lacks Key or Recognise", s.Name)
		}
		if got, err := Lookup(s.Name); err != nil || got.Name != s.Name {
			t.Errorf("Lookup(%s) = %v, %v", s.Name, got.Name, err)
		}
	}
}

// CSV and JSON Lines can be appended to and merged; a JSON array (its
// bracket after the last record) and the table (written whole at the end)
// cannot. CSV's last record may lack faces; JSON Lines' is whole.
func TestAppendable(t *testing.T) {
	want := map[Format]bool{FormatTable: false, FormatCSV: true, FormatJSON: false, FormatJSONL: true}
	for f, appendable := range want {
		s, err := Lookup(f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Appendable() != appendable {
			t.Errorf("%s: Appendable %v, want %v", f, s.Appendable(), appendable)
		}
		_, err = NewRecordReader(f, strings.NewReader(""), "out")
		if (err == nil) != appendable {
			t.Errorf("%s: NewRecordReader: %v", f, err)
		}
	}
	if err := func() error { _, err := NewRecordReader(FormatJSON, nil, "out.json"); return err }(); err == nil ||
		err.Error() != "out.json: only csv and jsonl outputs can be read back, not json" {
		t.Errorf("JSON read back: %v", err)
	}
	for f, partial := range map[Format]bool{FormatCSV: true, FormatJSONL: false} {
		if s, _ := Lookup(f); s.PartialLast != partial {
			t.Errorf("%s: PartialLast %v, want %v", f, s.PartialLast, partial)
		}
	}
}

// What resume does, for every format that can be appended to: a run cut
// after k inputs and a run that appends the rest (NoHeader) write the bytes
// one run writes, and read back as one record per input whose bytes, after
// the header, are the file.
func TestAppendedRunIsOneRun(t *testing.T) {
	ims := fixtures()
	for _, s := range Appendable() {
		whole := render(t, s.Name, Options{}, ims)
		for k := 1; k < len(ims); k++ {
			split := append(render(t, s.Name, Options{}, ims[:k]), render(t, s.Name, Options{NoHeader: true}, ims[k:])...)
			if !bytes.Equal(split, whole) {
				t.Errorf("%s: cut after %d and appended:\n%s\nwant\n%s", s.Name, k, split, whole)
			}
		}
		rr, err := NewRecordReader(s.Name, bytes.NewReader(whole), "out")
		if err != nil {
			t.Fatal(err)
		}
		again := bytes.NewBuffer(bytes.Clone(s.Header))
		for i := 0; ; i++ {
			rec, err := rr.Next()
			if errors.Is(err, io.EOF) {
				if i != len(ims) {
					t.Errorf("%s: %d records, want %d", s.Name, i, len(ims))
				}
				break
			}
			if err != nil {
				t.Fatalf("%s: record %d: %v", s.Name, i, err)
			}
			if want := s.Key(ims[i].Input); rec.Key != want {
				t.Errorf("%s: record %d key %q, want %q", s.Name, i, rec.Key, want)
			}
			again.Write(rec.Bytes)
		}
		if !bytes.Equal(again.Bytes(), whole) {
			t.Errorf("%s: records rewritten differ from the file", s.Name)
		}
	}
}

// A file is recognised by its first bytes as the format that wrote it,
// with or without records; a JSON array is not taken for a format that
// can be merged.
func TestRecognise(t *testing.T) {
	for _, s := range Appendable() {
		for _, ims := range [][]byte{render(t, s.Name, Options{}, fixtures()), render(t, s.Name, Options{}, fixtures()[:1])} {
			got, ok := Recognise(ims)
			if !ok || got.Name != s.Name {
				t.Errorf("%s output recognised as %q (%v)", s.Name, got.Name, ok)
			}
		}
	}
	for _, head := range []string{"[\n  {", "[]\n", "x", ""} {
		if got, ok := Recognise([]byte(head)); ok {
			t.Errorf("%q recognised as %s", head, got.Name)
		}
	}
}

func TestLookupListsTheFormats(t *testing.T) {
	_, err := Lookup("xml")
	if err == nil || err.Error() != `unknown format "xml"; the formats are table, csv, json, jsonl` {
		t.Errorf("Lookup(xml): %v", err)
	}
	var f Format
	if err := f.Set("csv"); err != nil || f != FormatCSV {
		t.Errorf("Set(csv): %q, %v", f, err)
	}
	if err := f.Set("CSV"); err == nil || f != FormatCSV {
		t.Errorf("Set(CSV): %q, %v; names are exact", f, err)
	}
}

func TestByExt(t *testing.T) {
	for name, want := range map[string]Format{
		"faces.csv": FormatCSV, "out/FACES.JSONL": FormatJSONL, "a.json": FormatJSON, "t.txt": FormatTable,
		"s3://bucket/out/part-2.jsonl?region=eu-west-1": FormatJSONL, "gs://b/x.csv": FormatCSV,
		"faces": "", "faces.tsv": "", "-": "", "out.csv/faces": "", "": "",
	} {
		if want == "" {
			want = "default"
		}
		if got := ByExt(name, "default"); got != want {
			t.Errorf("ByExt(%q) = %q, want %q", name, got, want)
		}
	}
}
