package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
)

func TestParseUTKName(t *testing.T) {
	cases := []struct {
		name string
		want Label
		ok   bool
	}{
		{"100_1_0_20170110183726390.jpg.chip.jpg", Label{100, face.Female, 0}, true},
		{"data/utkface/1_0_2_20161219140623097.jpg.chip.jpg", Label{1, face.Male, 2}, true},
		{"26_0_4_20170117154512345.jpg", Label{26, face.Male, 4}, true},
		// A few UTKFace names lack the race.
		{"39_1_20170116174525125.jpg.chip.jpg", Label{39, face.Female, -1}, true},
		{"61_1_20170109142408075.jpg.chip.jpg", Label{61, face.Female, -1}, true},
		{"121_0_0_20170110183726390.jpg.chip.jpg", Label{}, false}, // age typo
		{"30_2_0_20170110183726390.jpg.chip.jpg", Label{}, false},  // gender 2
		{"30_0_5_20170110183726390.jpg.chip.jpg", Label{}, false},  // race 5
		{"30_0_0.jpg", Label{}, false},
		{"IMG_1234.jpg", Label{}, false},
		{"photo.jpg", Label{}, false},
	}
	for _, c := range cases {
		got, ok := ParseUTKName(c.name)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseUTKName(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestReadLabelsCSV(t *testing.T) {
	in := "\ufeffPath,Age,Gender,note\n" +
		"a/one.jpg,30,Male,x\n" +
		"two.jpg,4.5,f\n" +
		"b/three.png,70,0\n" +
		"c/four.jpg, 12 ,1\n" +
		"five.jpg,40,FEMALE\n"
	got, err := readLabelsCSV(strings.NewReader(in), maxLabels)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Label{
		"a/one.jpg":   {30, face.Male, -1},
		"two.jpg":     {4.5, face.Female, -1},
		"b/three.png": {70, face.Male, -1},
		"c/four.jpg":  {12, face.Female, -1},
		"five.jpg":    {40, face.Female, -1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d labels, want %d: %+v", len(got), len(want), got)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("label of %s = %+v, want %+v", p, got[p], w)
		}
	}
}

func TestReadLabelsCSVErrors(t *testing.T) {
	cases := map[string]string{
		"":                                          "empty",
		"path,age\nx.jpg,3\n":                       `lacks "gender"`,
		"path,age,gender\nx.jpg,old,Male\n":         "line 2: age",
		"path,age,gender\nx.jpg,-1,Male\n":          "line 2: age",
		"path,age,gender\nx.jpg,30,other\n":         "line 2: gender",
		"path,age,gender\nx.jpg,30,M\nx.jpg,31,M\n": "labelled twice",
		"path,age,gender\n,30,M\n":                  "empty path",
		"path,age,gender\nx.jpg,30\n":               "line 2: gender",
	}
	for in, want := range cases {
		_, err := readLabelsCSV(strings.NewReader(in), maxLabels)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("readLabelsCSV(%q) error = %v, want one containing %q", in, err, want)
		}
	}
}

func TestLabelIndexLookup(t *testing.T) {
	x := newLabelIndex(map[string]Label{
		"photos/a.jpg":   {Age: 1},
		"./photos/b.jpg": {Age: 2},
		"x/dup.jpg":      {Age: 3},
		"y/dup.jpg":      {Age: 4},
	})
	cases := []struct {
		input string
		age   float64
		ok    bool
	}{
		{"photos/a.jpg", 1, true},
		{"photos//a.jpg", 1, true},    // cleaned
		{"/elsewhere/a.jpg", 1, true}, // by base name
		{"photos/b.jpg", 2, true},     // label path cleaned
		{"x/dup.jpg", 3, true},        // exact path wins
		{"y/dup.jpg", 4, true},
		{"z/dup.jpg", 0, false}, // base name is ambiguous
		{"photos/missing.jpg", 0, false},
	}
	for _, c := range cases {
		l, ok := x.Lookup(c.input)
		if ok != c.ok || l.Age != c.age {
			t.Errorf("Lookup(%q) = %+v, %v; want age %v, %v", c.input, l, ok, c.age, c.ok)
		}
	}
}

func TestReadLabelsCSVFileColumn(t *testing.T) {
	// AAF's labels.csv: file,age,gender with 0 male, 1 female.
	got, err := readLabelsCSV(strings.NewReader("file,age,gender\n00001A02.jpg,2,1\n07381A45.jpg,45,0\n"), maxLabels)
	if err != nil {
		t.Fatal(err)
	}
	if got["00001A02.jpg"] != (Label{2, face.Female, -1}) || got["07381A45.jpg"] != (Label{45, face.Male, -1}) {
		t.Errorf("labels %+v", got)
	}
}

// A labels file is bounded in bytes, refused from its size before it is
// read, and in rows, each taking memory whatever its length: a 128 MB file
// once took 1.28 GB.
func TestLabelsFileIsBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "labels.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("path,age,gender\n")
	f.Truncate(maxLabelsBytes + 1) // sparse: nothing is written
	f.Close()
	if _, err := LoadLabels(big); err == nil || !strings.Contains(err.Error(), big+": labels file of 32.0 MB is over the 32 MB limit") {
		t.Errorf("labels file over the byte limit: %v", err)
	}
	rows := "path,age,gender\na.jpg,1,m\nb.jpg,2,f\nc.jpg,3,m\n"
	if _, err := readLabelsCSV(strings.NewReader(rows), 2); err == nil || !strings.Contains(err.Error(), "labels CSV line 4: more than 2 labels, the limit") {
		t.Errorf("labels past the row limit: %v", err)
	}
	long := "path,age,gender\n" + strings.Repeat("x", maxLabelPath+1) + ",1,m\n"
	if _, err := readLabelsCSV(strings.NewReader(long), 2); err == nil || !strings.Contains(err.Error(), "labels CSV line 2: a path of 4097 bytes, longer than any path (4096)") {
		t.Errorf("a path longer than any path: %v", err)
	}
}
