package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

// Names beginning with = + - @ (or a tab or CR) went into CSV as they were,
// and a spreadsheet ran them as formulas; they get a leading quote. Numbers
// are left alone, negative ones included.
func TestCSVDefusesFormulas(t *testing.T) {
	ims := []face.Image{
		{Input: "=HYPERLINK(\"http://x\").jpg", Err: errors.New("=cmd|' /C calc'!A0")},
		{Input: "+1.jpg"}, {Input: "-2.jpg"}, {Input: "@x.jpg"}, {Input: "\tx.jpg"}, {Input: "\rx.jpg"},
		{Input: "plain.jpg", Faces: []face.Face{{Box: face.Box{X: -25, Y: -3}, Age: 30, Gender: face.Male, GenderProbability: 0.9}}},
	}
	recs, err := csv.NewReader(bytes.NewReader(render(t, FormatCSV, Options{}, ims))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range ims {
		row := recs[i+1]
		want := im.Input
		if im.Input != "plain.jpg" {
			want = "'" + im.Input
		}
		if row[0] != want {
			t.Errorf("input cell %q, want %q", row[0], want)
		}
	}
	if got := recs[1][len(recs[1])-1]; !strings.HasPrefix(got, "'=cmd") {
		t.Errorf("error cell %q not defused", got)
	}
	if x := recs[len(recs)-1][3]; x != "-25" {
		t.Errorf("negative box edge written as %q", x)
	}
}

// Two names that differ only in bytes that are not UTF-8 printed the same
// "\ufffd" name; input_base64 keeps each one's exact bytes.
func TestJSONKeepsInvalidUTF8NamesApart(t *testing.T) {
	a, b := "photo\xff.jpg", "photo\xfe.jpg"
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		out := render(t, f, Options{}, []face.Image{{Input: a}, {Input: b}, {Input: "ok.jpg"}})
		var objs []jsonImage
		if f == FormatJSON {
			if err := json.Unmarshal(out, &objs); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var o jsonImage
				if err := json.Unmarshal([]byte(line), &o); err != nil {
					t.Fatal(err)
				}
				objs = append(objs, o)
			}
		}
		for i, want := range []string{a, b} {
			raw, err := base64.StdEncoding.DecodeString(objs[i].InputBase64)
			if err != nil || string(raw) != want {
				t.Errorf("%s: input_base64 %q decodes to %q, want %q", f, objs[i].InputBase64, raw, want)
			}
		}
		if objs[2].InputBase64 != "" || strings.Contains(string(out), `"input_base64":""`) {
			t.Errorf("%s: a valid UTF-8 name got input_base64", f)
		}
	}
}
