package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/report"
)

// RunMerge ends its output as Run does: committed once every input is
// merged, aborted when the merge is refused, with the refusal typed for the
// command to word.
func TestRunMergeEndsItsOutput(t *testing.T) {
	dir := t.TempDir()
	in := names(3)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	for _, format := range []report.Format{report.FormatJSONL, report.FormatCSV} {
		rec := func(names ...string) string { return records(t, format, 2, names...) }
		p0, p1 := write("p0."+string(format), rec(in[0], in[2])), write("p1."+string(format), rec(in[1]))
		got, err := SniffFormat(context.Background(), nil, []string{p0, p1})
		if err != nil || got != format {
			t.Fatalf("%s: sniffed %q, %v", format, got, err)
		}
		var out memOutput
		n, err := RunMerge(context.Background(), nil, []string{p0, p1}, format, listing(in...), &out)
		if err != nil || n != 3 || out.String() != rec(in...) || out.committed != 1 || out.aborted != 0 {
			t.Errorf("%s: merged %d, %v, committed %d, aborted %d:\n%s", format, n, err, out.committed, out.aborted, out.String())
		}
		out = memOutput{}
		_, err = RunMerge(context.Background(), nil, []string{p0}, format, listing(in...), &out)
		var unfinished *UnfinishedShardError
		if !errors.As(err, &unfinished) || unfinished.Input != in[1] || out.committed != 0 || out.aborted != 1 {
			t.Errorf("%s: a missing shard: %v, committed %d, aborted %d", format, err, out.committed, out.aborted)
		}
		// Merged inputs are written as they come, so a merge to stdout
		// streams; the refused one stops after the input before.
		if want := rec(in[0]); out.String() != want {
			t.Errorf("%s: refused merge wrote\n%q\nwant\n%q", format, out.String(), want)
		}
	}
	whole := records(t, report.FormatJSONL, 1, in[1])
	torn := write("torn.jsonl", whole[:len(whole)-3])
	var out memOutput
	_, err := RunMerge(context.Background(), nil, []string{torn}, report.FormatJSONL, listing(in...), &out)
	var te *TornShardError
	if !errors.As(err, &te) || te.Shard != torn || !errors.Is(err, report.ErrTorn) || out.aborted != 1 {
		t.Errorf("a torn shard: %v, aborted %d", err, out.aborted)
	}
	_, err = SniffFormat(context.Background(), nil, []string{write("a.json", records(t, report.FormatJSON, 1, in[0]))})
	var um *UnmergeableError
	if !errors.As(err, &um) || !strings.HasSuffix(err.Error(), "a.json is neither agegender CSV nor JSON Lines") {
		t.Errorf("a JSON array: %v", err)
	}
}

// No error of job's names a flag: the command words them (cli).
func TestErrorsSpeakNoFlags(t *testing.T) {
	for _, err := range []error{
		&ExistsError{Path: "p"}, &CreatedMeanwhileError{Path: "p"}, &NotAppendableError{Path: "-", Format: report.FormatJSON},
		&ResumeError{Path: "p", Err: errors.New("x")}, &ResumeError{Path: "p", Err: errors.New("x"), Refused: true},
		&InterruptedError{Output: "p"}, &UnfinishedShardError{Input: "a", Heads: "h"},
		&TornShardError{Shard: "s", Err: report.ErrTorn}, &UnmergeableError{Path: "p"},
	} {
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%T: %q names a flag", err, err)
		}
	}
}
