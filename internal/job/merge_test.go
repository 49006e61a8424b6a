package job

import (
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/report"
)

// shardsOf reads each string as a shard output named s0, s1, ...
func shardsOf(t *testing.T, format report.Format, contents ...string) []Shard {
	t.Helper()
	shards := make([]Shard, len(contents))
	for i, c := range contents {
		name := "s" + string(rune('0'+i))
		r, err := report.NewRecordReader(format, strings.NewReader(c), name)
		if err != nil {
			t.Fatal(err)
		}
		shards[i] = Shard{Name: name, Records: r}
	}
	return shards
}

func TestMergeJoinsShardsInInputOrder(t *testing.T) {
	in := names(7)
	for _, format := range []report.Format{report.FormatJSONL, report.FormatCSV} {
		// Two faces each, so that a CSV record is two rows.
		rec := func(names ...string) string { return records(t, format, 2, names...) }
		shards := shardsOf(t, format,
			rec(in[0], in[3], in[4]),
			rec(), // a shard that got no inputs
			rec(in[1], in[2], in[5], in[6]))
		var out strings.Builder
		n, err := Merge(listing(in...), shards, format, &out)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if want := rec(in...); out.String() != want || n != len(in) {
			t.Errorf("%s: merged %d inputs:\n%s\nwant %d:\n%s", format, n, out.String(), len(in), want)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	in := names(4)
	rec := func(names ...string) string { return records(t, report.FormatJSONL, 1, names...) }
	torn := rec(in[1], in[3])
	torn = torn[:len(torn)-5]
	for _, tc := range []struct {
		name   string
		shards []string
		want   string
	}{
		{"an input in two shards", []string{rec(in[0], in[1]), rec(in[1], in[2], in[3])}, `d/01.png has rows in both s0 and s1`},
		{"an input in none", []string{rec(in[0], in[1]), rec(in[3])}, `d/02.png has no rows next in any shard output`},
		{"a row the listing lacks", []string{rec(in[0], in[1], in[2], in[3], "other.png")}, `s0: line 5: a row for "other.png", which is not in the listing`},
		{"a duplicated row", []string{rec(in[0], in[1], in[1], in[2], in[3])}, `s0: line 3: a second row for "d/01.png", whose first is on line 2`},
		{"a torn last row", []string{rec(in[0], in[2]), torn}, `s1: the last row is cut short`},
	} {
		var out strings.Builder
		_, err := Merge(listing(in...), shardsOf(t, report.FormatJSONL, tc.shards...), report.FormatJSONL, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}
