package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/safeio"
)

// races are UTKFace's race classes, indexed by the race field of its names.
var races = [...]string{"White", "Black", "Asian", "Indian", "Others"}

// raceName names a UTKFace race index, or returns "" for -1 and unknown values.
func raceName(race int) string {
	if race < 0 || race >= len(races) {
		return ""
	}
	return races[race]
}

// Label is the truth for one input.
type Label struct {
	Age float64 `json:"age"`
	// Gender is face.Male or face.Female.
	Gender string `json:"gender"`
	// Race is a UTKFace race index (0 White, 1 Black, 2 Asian, 3 Indian,
	// 4 Others), or -1 when unknown.
	Race int `json:"race"`
}

// utkName is AGE_GENDER[_RACE]_DATETIME...: a handful of UTKFace files lack
// the race field, and the datetime is 17 digits, so requiring 6 or more keeps
// a bad race digit from being taken for the datetime.
var utkName = regexp.MustCompile(`^(\d{1,3})_([01])_(?:([0-4])_)?\d{6,}`)

// ParseUTKName reads the label from a UTKFace file name (its base name is
// used, so a path is fine): age, gender 0 male / 1 female, and race when the
// name has it. Ages above 120 are rejected as typos, as training/data.py does.
func ParseUTKName(name string) (Label, bool) {
	m := utkName.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return Label{}, false
	}
	age, err := strconv.Atoi(m[1])
	if err != nil || age > 120 {
		return Label{}, false
	}
	l := Label{Age: float64(age), Gender: face.Male, Race: -1}
	if m[2] == "1" {
		l.Gender = face.Female
	}
	if m[3] != "" {
		l.Race = int(m[3][0] - '0')
	}
	return l, true
}

// LoadLabels returns where an input's label comes from: the CSV file at
// path when one is given, which then replaces file-name labels entirely, so
// that a CSV is the one truth; else UTKFace file names.
func LoadLabels(path string) (func(input string) (Label, bool), error) {
	if path == "" {
		return ParseUTKName, nil
	}
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	if size, ok := safeio.Size(f); ok && size > maxLabelsBytes {
		return nil, fmt.Errorf("%s: labels file of %s is over the %s limit", path, bytesize.Amount(size), bytesize.Limit(maxLabelsBytes))
	}
	labels, err := readLabelsCSV(&limitedLabels{r: io.LimitReader(f, maxLabelsBytes+1)}, maxLabels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return newLabelIndex(labels).Lookup, nil
}

// Bounds on a labels file: held in memory as an index, a row costs some
// 200 bytes whatever its length (a 128 MB file once took 1.28 GB), so the
// rows are bounded as well as the bytes. The largest public age data sets
// have some hundred thousand labelled faces.
const (
	maxLabelsBytes = 32 << 20
	maxLabels      = 500_000
	// maxLabelPath is Linux's PATH_MAX: no longer path names a file.
	maxLabelPath = 4096
)

// limitedLabels fails a read past maxLabelsBytes (the file grew after its
// size was checked, or has none).
type limitedLabels struct {
	r    io.Reader
	read int64
}

func (l *limitedLabels) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.read += int64(n); l.read > maxLabelsBytes {
		return n, fmt.Errorf("labels file is over the %s limit", bytesize.Limit(maxLabelsBytes))
	}
	return n, err
}

// readLabelsCSV reads labels from a CSV file with the header path,age,gender
// (in any column order, file standing for path; other columns are ignored). gender is Male/Female,
// M/F (any case) or 0/1 with 0 = male and 1 = female, as in UTKFace names.
// At most maxRows labels are read. The map is keyed by path as written;
// race is -1. Use newLabelIndex to match
// inputs against it.
func readLabelsCSV(r io.Reader, maxRows int) (map[string]Label, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("labels CSV is empty: want a header path,age,gender")
	}
	if err != nil {
		return nil, fmt.Errorf("read labels CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if h == "file" {
			// AAF's and CelebA-HQ's labels.csv name the column file.
			h = "path"
		}
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, want := range []string{"path", "age", "gender"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("labels CSV header lacks %q: want path,age,gender", want)
		}
	}
	labels := map[string]Label{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return labels, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read labels CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		path := field("path")
		switch {
		case path == "":
			return nil, fmt.Errorf("labels CSV line %d: empty path", line)
		case len(path) > maxLabelPath:
			return nil, fmt.Errorf("labels CSV line %d: a path of %d bytes, longer than any path (%d)", line, len(path), maxLabelPath)
		case len(labels) == maxRows:
			return nil, fmt.Errorf("labels CSV line %d: more than %d labels, the limit", line, maxRows)
		}
		if _, dup := labels[path]; dup {
			return nil, fmt.Errorf("labels CSV line %d: %s is labelled twice", line, path)
		}
		age, err := strconv.ParseFloat(field("age"), 64)
		if err != nil || age < 0 || age > 150 {
			return nil, fmt.Errorf("labels CSV line %d: age %q is not a number of years", line, field("age"))
		}
		gender, ok := parseGender(field("gender"))
		if !ok {
			return nil, fmt.Errorf("labels CSV line %d: gender %q: want Male, Female, M, F, 0 (male) or 1 (female)", line, field("gender"))
		}
		labels[path] = Label{Age: age, Gender: gender, Race: -1}
	}
}

func parseGender(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "male", "m", "0":
		return face.Male, true
	case "female", "f", "1":
		return face.Female, true
	}
	return "", false
}

// labelIndex finds the label of an input in a labels CSV.
type labelIndex struct {
	byPath map[string]Label
	byBase map[string]Label
	// ambiguous base names belong to several labelled paths, so a bare
	// base name cannot pick one.
	ambiguous map[string]bool
}

// newLabelIndex indexes labels by path and by base name.
func newLabelIndex(labels map[string]Label) *labelIndex {
	x := &labelIndex{byPath: map[string]Label{}, byBase: map[string]Label{}, ambiguous: map[string]bool{}}
	for p, l := range labels {
		x.byPath[filepath.Clean(p)] = l
		b := filepath.Base(p)
		if _, seen := x.byBase[b]; seen {
			x.ambiguous[b] = true
		}
		x.byBase[b] = l
	}
	return x
}

// Lookup matches input first as a path (as given, cleaned), then by base
// name, the latter only when one labelled path has that base name: a labels
// file written relative to another folder still matches, and two different
// files that share a name are never confused.
func (x *labelIndex) Lookup(input string) (Label, bool) {
	if l, ok := x.byPath[filepath.Clean(input)]; ok {
		return l, true
	}
	b := filepath.Base(input)
	if x.ambiguous[b] {
		return Label{}, false
	}
	l, ok := x.byBase[b]
	return l, ok
}
