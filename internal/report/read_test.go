package report

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// readAll reads every record of data, returning them and the final error
// (nil at a clean end).
func readAll(t *testing.T, f Format, data []byte) ([]Record, error) {
	t.Helper()
	rr, err := NewRecordReader(f, bytes.NewReader(data), "out")
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for {
		rec, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

// What a writer wrote reads back as one record per input, keyed as Key says,
// and rewrites to the same bytes; a file cut at any byte either ends on a
// record boundary or reports a torn record at the last boundary before the cut.
func TestRecordReaderRoundTripAndTornAtEveryCut(t *testing.T) {
	ims := append(fixtures(),
		face.Image{Input: "=cmd|' /C calc'!A0.jpg", Width: 50, Height: 50, Detect: face.DetectAuto},
		face.Image{Input: "bad\xffname.jpg", Width: 50, Height: 50, Detect: face.DetectAuto},
		face.Image{Input: "new\nline.jpg", Err: errors.New("new\nline.jpg: broken")},
	)
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		data := render(t, f, Options{}, ims)
		recs, err := readAll(t, f, data)
		if err != nil || len(recs) != len(ims) {
			t.Fatalf("%s: %d records, err %v", f, len(recs), err)
		}
		spec, _ := Lookup(f)
		var again bytes.Buffer
		again.Write(spec.Header)
		bounds := map[int64]bool{int64(len(spec.Header)): true}
		for i, rec := range recs {
			if rec.Key != Key(f, ims[i].Input) {
				t.Errorf("%s: record %d key %q, want %q", f, i, rec.Key, Key(f, ims[i].Input))
			}
			again.Write(rec.Bytes)
			bounds[rec.End] = true
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Errorf("%s: rewritten records differ:\n%s\nwant\n%s", f, again.Bytes(), data)
		}
		for cut := 1; cut < len(data); cut++ {
			recs, err := readAll(t, f, data[:cut])
			var te *TornError
			switch {
			case f == FormatCSV && err == nil && data[cut-1] == '\n':
				// A cut between two faces' rows of one input reads as an input
				// with fewer faces: CSV cannot tell, which is why resume redoes
				// a CSV file's last input.
			case bounds[int64(cut)] && err != nil:
				t.Errorf("%s cut at boundary %d: %v", f, cut, err)
			case !bounds[int64(cut)] && !errors.As(err, &te):
				t.Errorf("%s cut at %d (inside a record): err %v, %d records", f, cut, err, len(recs))
			case te != nil:
				last := int64(0)
				if len(recs) > 0 {
					last = recs[len(recs)-1].End
				} else if f == FormatCSV && cut > len(csvHeader()) {
					last = int64(len(csvHeader()))
				}
				if te.At != last {
					t.Errorf("%s cut at %d: torn at %d, want %d", f, cut, te.At, last)
				}
			}
		}
	}
}

// A damaged line in the middle is not a torn end: it is refused.
func TestRecordReaderRefusesDamage(t *testing.T) {
	if _, err := readAll(t, FormatJSONL, []byte("{\"input\":\"a\"}\nnot json\n{\"input\":\"b\"}\n")); err == nil || errors.Is(err, ErrTorn) {
		t.Errorf("jsonl: %v", err)
	}
	if _, err := readAll(t, FormatCSV, []byte("name,age\nx,1\n")); err == nil || errors.Is(err, ErrTorn) {
		t.Errorf("csv header: %v", err)
	}
	// An age interval is both numbers or both empty.
	for _, cells := range []string{"29.0,", ",41.0", "young,41.0"} {
		row := "a.jpg,0,true,1,2,3,4,0.9,34.5," + cells + ",Female,0.912,\n"
		_, err := readAll(t, FormatCSV, append(csvHeader(), row...))
		if err == nil || !strings.Contains(err.Error(), "age_low") {
			t.Errorf("csv interval %q: %v", cells, err)
		}
	}
}

// A JSON Lines "record" longer than any agegender writes is refused once it
// passes maxRecordBytes, not read whole: a resume file or shard of one
// endless line grew memory without bound.
func TestRecordReaderBoundsALine(t *testing.T) {
	long := io.MultiReader(strings.NewReader(`{"input":"`), io.LimitReader(zeros{}, maxRecordBytes+1))
	rr, err := NewRecordReader(FormatJSONL, long, "big.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.Next(); err == nil || !strings.Contains(err.Error(), "big.jsonl: line 1 is longer than") {
		t.Fatalf("Next: %v, want the line refused as too long", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// A CSV row is bounded as a JSON Lines record is: one endless quoted cell
// is refused, not read whole.
func TestRecordReaderBoundsACSVRow(t *testing.T) {
	long := io.MultiReader(bytes.NewReader(csvHeader()), strings.NewReader(`"`), io.LimitReader(zeros{}, maxRecordBytes+1))
	rr, err := NewRecordReader(FormatCSV, long, "big.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.Next(); err == nil || !strings.Contains(err.Error(), "big.csv: the row after line 1 is longer than") {
		t.Fatalf("Next: %v, want the row refused as too long", err)
	}
}
