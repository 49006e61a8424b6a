package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/report"
)

// formatTree is a folder of two images for --format's runs.
func formatTree(t *testing.T) (dir, in string) {
	dir = t.TempDir()
	in = filepath.Join(dir, "in")
	pngFile(t, filepath.Join(in, "a.png"), 40, 50)
	pngFile(t, filepath.Join(in, "b.png"), 60, 30)
	return dir, in
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, "", args...)
	if code != exitOK {
		t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// predict --format NAME prints what --NAME prints, and the table without
// either; every format in the registry can be named.
func TestPredictFormatFlag(t *testing.T) {
	_, in := formatTree(t)
	a := filepath.Join(in, "a.png")
	if got, want := mustRun(t, "predict", "--format", "table", a), mustRun(t, "predict", a); got != want {
		t.Errorf("--format table:\n%s\nwant the default\n%s", got, want)
	}
	for _, f := range []string{"csv", "json", "jsonl"} {
		if got, want := mustRun(t, "predict", "--format", f, a), mustRun(t, "predict", "--"+f, a); got != want || got == "" {
			t.Errorf("--format %s:\n%s\nwant --%s's\n%s", f, got, f, want)
		}
	}
	for _, f := range report.Names() {
		mustRun(t, "predict", "--format", f, a)
	}
}

// batch --format NAME --out FILE writes what --NAME FILE writes; without
// --format, --out's extension names the format, else it is JSON Lines; to
// stdout too.
func TestBatchFormatFlag(t *testing.T) {
	dir, in := formatTree(t)
	out := func(name string) string { return filepath.Join(dir, name) }
	for _, f := range []string{"csv", "json", "jsonl"} {
		mustRun(t, "batch", "-q", "--"+f, out("short."+f), in)
		want := readFile(t, out("short."+f))
		mustRun(t, "batch", "-q", "--format", f, "--out", out("long-"+f), in)
		mustRun(t, "batch", "-q", "-o", out("ext."+strings.ToUpper(f)), in)
		for _, name := range []string{"long-" + f, "ext." + strings.ToUpper(f)} {
			if got := readFile(t, out(name)); got != want {
				t.Errorf("%s:\n%s\nwant --%s's\n%s", name, got, f, want)
			}
		}
		if got := mustRun(t, "batch", "-q", "--format", f, in); got != want {
			t.Errorf("--format %s to stdout:\n%s\nwant\n%s", f, got, want)
		}
	}
	mustRun(t, "batch", "-q", "-o", out("noext"), in)
	if got, want := readFile(t, out("noext")), readFile(t, out("short.jsonl")); got != want {
		t.Errorf("--out without an extension:\n%s\nwant JSON Lines\n%s", got, want)
	}
	mustRun(t, "batch", "-q", "-o", out("t.txt"), in)
	mustRun(t, "batch", "-q", "--format", "table", "-o", out("table"), in)
	if got, want := readFile(t, out("t.txt")), readFile(t, out("table")); got != want || !strings.HasPrefix(got, "input  ") {
		t.Errorf("table by extension:\n%s\nwant\n%s", got, want)
	}
}

// --resume takes --format and --out as it takes --jsonl or --csv: a run cut
// short is finished to what one run writes.
func TestResumeWithFormatFlag(t *testing.T) {
	dir, in := formatTree(t)
	whole := filepath.Join(dir, "whole.csv")
	mustRun(t, "batch", "-q", "--csv", whole, in)
	cut := filepath.Join(dir, "cut.csv")
	lines := strings.SplitAfter(readFile(t, whole), "\n")
	os.WriteFile(cut, []byte(lines[0]+lines[1]), 0o644)
	mustRun(t, "batch", "-q", "--resume", "--format", "csv", "-o", cut, in)
	if got, want := readFile(t, cut), readFile(t, whole); got != want {
		t.Errorf("resumed:\n%s\nwant\n%s", got, want)
	}
}

// An unknown format is a usage error that lists the formats; --format and
// --out cannot be given beside a flag short for them, and the old flags
// still refuse each other in their old words.
func TestFormatFlagRefusals(t *testing.T) {
	dir, in := formatTree(t)
	o := filepath.Join(dir, "o.csv")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "--format", "xml", "x.png"}, `invalid argument "xml" for "--format" flag: unknown format "xml"; the formats are table, csv, json, jsonl`},
		{[]string{"batch", "--format", "CSV", in}, `unknown format "CSV"; the formats are table, csv, json, jsonl`},
		{[]string{"predict", "--format", "csv", "--json", "x.png"}, "if any flags in the group [json csv jsonl format] are set none of the others can be; [format json] were all set"},
		{[]string{"batch", "--format", "csv", "--csv", o, in}, "if any flags in the group [csv json jsonl format] are set none of the others can be; [csv format] were all set"},
		{[]string{"batch", "--out", o, "--jsonl", o, in}, "if any flags in the group [csv json jsonl out] are set none of the others can be; [jsonl out] were all set"},
		{[]string{"batch", "--csv", o, "--json", o, in}, "if any flags in the group [csv json jsonl] are set none of the others can be; [csv json] were all set"},
		{[]string{"batch", "--out", "--quiet", in}, `--out "--quiet": an output path that starts with '-' looks like a flag`},
		{[]string{"batch", "--resume", "--format", "json", "-o", o, in}, "--resume needs an output file: --jsonl FILE or --csv FILE (a JSON array cannot be appended to)"},
		{[]string{"batch", "--resume", "-o", filepath.Join(dir, "o.json"), in}, "--resume needs an output file"},
		{[]string{"batch", "--resume", "--format", "csv", in}, "--resume needs an output file"},
	} {
		code, _, errOut := runCLI(t, noEngine(t), "", tc.args...)
		// cobra checks flag groups past the flag error hook: exit 1
		// without the pointer to --help, as for the old flags.
		usage := !strings.HasPrefix(tc.want, "if any flags")
		if code != exitError || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "--help' for usage") != usage {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(o); !os.IsNotExist(err) {
		t.Errorf("an output file was created: %v", err)
	}
}

// cli words job's errors in its flags, in the words they had when job
// spoke in flags, inside errors.Join'ed lists too, keeping their causes.
func TestJobErrorsWordedWithFlags(t *testing.T) {
	cause := errors.New("lock: resource busy")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&job.ExistsError{Path: "s3://b/o.csv"}, "output s3://b/o.csv already exists; pass --force to overwrite it"},
		{&job.CreatedMeanwhileError{Path: "gs://b/o"}, "output gs://b/o was created by something else during the run and is kept (no --force)"},
		{&job.NotAppendableError{Path: "-", Format: report.FormatJSONL}, "--resume needs an output file: --jsonl FILE or --csv FILE (a JSON array cannot be appended to)"},
		{&job.ResumeError{Path: "r.jsonl", Err: cause}, "--resume r.jsonl: lock: resource busy"},
		{&job.ResumeError{Path: "r.jsonl", Err: errors.New("r.jsonl: line 3: a row"), Refused: true}, "--resume r.jsonl: line 3: a row; it is left as it is"},
		{&job.InterruptedError{Output: "r.csv"}, "interrupted; r.csv holds every input finished so far, and the same command with --resume does the rest"},
		{&job.UnfinishedShardError{Input: "a.png", Heads: "p0: (none left)"}, "a.png has no rows next in any shard output: its shard did not finish (run it again with --resume), or the inputs after -- differ from the batch's; the next rows are p0: (none left)"},
		{&job.TornShardError{Shard: "p1.jsonl", Err: &report.TornError{At: 7}}, "p1.jsonl: the last row is cut short (a run killed while writing it), at byte 7: its shard was killed; run it again with --resume"},
		{&job.UnmergeableError{Path: "x.json"}, "x.json is neither agegender CSV nor JSON Lines (a JSON array cannot be merged; use --jsonl or --csv)"},
	} {
		var b bytes.Buffer
		printError(&b, "agegender: ", errors.Join(errors.New("first"), tc.err))
		if got, want := b.String(), "agegender: first\nagegender: "+tc.want+"\n"; got != want {
			t.Errorf("%T:\n%s\nwant\n%s", tc.err, got, want)
		}
		if strings.Contains(tc.err.Error(), "--") {
			t.Errorf("%T speaks in flags: %v", tc.err, tc.err)
		}
	}
	if err := worded(&job.ResumeError{Path: "r", Err: cause}); !errors.Is(err, cause) {
		t.Errorf("worded lost the cause: %v", err)
	}
}
