package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLIEnv(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, out, errOut := testStreams(stdin)
	ios.Getenv = func(k string) string { return env[k] }
	var op fakeOpener
	code = Main(args, ios, op.open, "")
	return code, out.String(), errOut.String()
}

// shardTree writes images in nested folders, one that fails to decode and
// a folder that holds none, so that error rows are split too.
func shardTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "in")
	for i := 0; i < 40; i++ {
		pngFile(t, filepath.Join(root, fmt.Sprintf("d%d", i%4), fmt.Sprintf("%02d.png", i)), 40+i, 40)
	}
	pngFile(t, filepath.Join(root, "=formula.png"), 33, 40)
	if err := os.WriteFile(filepath.Join(root, "broken.jpg"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// N processes with --shard or the schedulers' variables, merged, give the
// unsharded run's output byte for byte; each input is in exactly one shard.
func TestShardMergeEqualsOneRun(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	for _, ext := range []string{"csv", "jsonl"} {
		whole := filepath.Join(dir, "whole."+ext)
		if code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--"+ext, whole, in); code != exitSomeFailed {
			t.Fatalf("unsharded: exit %d, stderr %q", code, errOut)
		}
		want, _ := os.ReadFile(whole)
		for _, n := range []int{1, 3, 7} {
			for _, how := range []string{"flag", "k8s", "slurm"} {
				var outs []string
				total := 0
				for i := 0; i < n; i++ {
					out := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.%s", how, n, i, ext))
					args := []string{"batch", "-q", "--" + ext, out, in}
					env := map[string]string{}
					switch how {
					case "flag":
						args = append(args, "--shard", fmt.Sprintf("%d/%d", i, n))
						env["JOB_COMPLETION_INDEX"] = "0" // the flag wins
					case "k8s":
						env["JOB_COMPLETION_INDEX"] = fmt.Sprint(i)
						env["AGEGENDER_SHARD_COUNT"] = fmt.Sprint(n)
					case "slurm":
						env["SLURM_ARRAY_TASK_ID"] = fmt.Sprint(i + 1)
						env["SLURM_ARRAY_TASK_MIN"] = "1"
						env["SLURM_ARRAY_TASK_COUNT"] = fmt.Sprint(n)
					}
					code, _, errOut := runCLIEnv(t, env, "", args...)
					if code == exitError {
						t.Fatalf("%s %d/%d: exit %d, stderr %q", how, i, n, code, errOut)
					}
					if how != "flag" && !strings.Contains(errOut, fmt.Sprintf("shard %d/%d from", i, n)) {
						t.Errorf("%s %d/%d: no notice of the shard on stderr: %q", how, i, n, errOut)
					}
					data, _ := os.ReadFile(out)
					total += bytes.Count(data, []byte("\n"))
					outs = append(outs, out)
				}
				// Rows add up (CSV repeats its header in each shard).
				wantLines := bytes.Count(want, []byte("\n"))
				if ext == "csv" {
					wantLines += n - 1
				}
				if total != wantLines {
					t.Errorf("%s N=%d %s: %d lines in the shards, want %d", how, n, ext, total, wantLines)
				}
				merged := filepath.Join(dir, fmt.Sprintf("merged-%s-%d.%s", how, n, ext))
				// Shard files in any order.
				args := append([]string{"merge", "--out", merged}, reversed(outs)...)
				code, _, errOut := runCLIEnv(t, nil, "", append(args, "--", in)...)
				if code != exitOK {
					t.Fatalf("merge %s N=%d: exit %d, stderr %q", how, n, code, errOut)
				}
				got, _ := os.ReadFile(merged)
				if !bytes.Equal(got, want) {
					t.Errorf("merge %s N=%d %s differs from one run:\n%s\nwant\n%s", how, n, ext, got, want)
				}
			}
		}
	}
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

func TestMergeRefuses(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	var outs []string
	for i := 0; i < 3; i++ {
		out := filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i))
		runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", out, "--shard", fmt.Sprintf("%d/3", i), in)
		outs = append(outs, out)
	}
	data, _ := os.ReadFile(outs[1])
	torn := filepath.Join(dir, "torn.jsonl")
	os.WriteFile(torn, data[:len(data)-10], 0o644)
	csvOut := filepath.Join(dir, "s.csv")
	runCLIEnv(t, nil, "", "batch", "-q", "--csv", csvOut, "--shard", "0/3", in)
	merged := filepath.Join(dir, "m.jsonl")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{outs[0], outs[1], "--", in}, "no rows next in any shard"},
		{[]string{outs[0], outs[1], outs[2], outs[2], "--", in}, "has rows in both"},
		{[]string{outs[0], torn, outs[2], "--", in}, "cut short"},
		{[]string{outs[0], outs[1], outs[2], "--", filepath.Join(in, "d1")}, "no rows next"},
		// The listing lacks the last folder: its rows are left over.
		{[]string{outs[0], outs[1], outs[2], "--", filepath.Join(in, "=formula.png"), filepath.Join(in, "broken.jpg"),
			filepath.Join(in, "d0"), filepath.Join(in, "d1"), filepath.Join(in, "d2")}, "which is not in the listing"},
		{[]string{outs[0], csvOut, "--", in}, "one format"},
		{[]string{outs[0], outs[1], outs[2]}, "after --"},
	} {
		code, _, errOut := runCLIEnv(t, nil, "", append([]string{"merge", "--out", merged}, c.args...)...)
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
		if _, err := os.Stat(merged); err == nil {
			t.Fatalf("%v: a refused merge wrote %s", c.args, merged)
		}
	}
}

func TestShardEnvRefusals(t *testing.T) {
	in := shardTree(t)
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"JOB_COMPLETION_INDEX": "1"}, nil, "AGEGENDER_SHARD_COUNT"},
		{map[string]string{"JOB_COMPLETION_INDEX": "5"}, []string{"--shard-count", "5"}, "JOB_COMPLETION_INDEX"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2"}, nil, "SLURM_ARRAY_TASK_ID"},
		{map[string]string{"JOB_COMPLETION_INDEX": "0", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"}, []string{"--shard-count", "2"}, "ambiguous"},
		{nil, []string{"--shard", "3/3"}, "--shard"},
		{nil, []string{"--shard-count", "3"}, "JOB_COMPLETION_INDEX"},
	} {
		out := filepath.Join(t.TempDir(), "o.jsonl")
		code, _, errOut := runCLIEnv(t, c.env, "", append([]string{"batch", "-q", "--jsonl", out, in}, c.args...)...)
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%v %v: exit %d, stderr %q, want %q", c.env, c.args, code, errOut, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v %v: output written", c.env, c.args)
		}
	}
}

// A path given twice is processed twice, in its shard twice, and merged twice;
// a row repeated in a shard output that the listing does not repeat is refused.
func TestMergeRepeatedPath(t *testing.T) {
	in := shardTree(t)
	a := filepath.Join(in, "d0", "00.png")
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", whole, a, a, in)
	want, _ := os.ReadFile(whole)
	var outs []string
	for i := 0; i < 3; i++ {
		out := filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i))
		runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", out, "--shard", fmt.Sprintf("%d/3", i), a, a, in)
		outs = append(outs, out)
	}
	merged := filepath.Join(dir, "m.jsonl")
	code, _, errOut := runCLIEnv(t, nil, "", append(append([]string{"merge", "-o", merged}, outs...), "--", a, a, in)...)
	if got, _ := os.ReadFile(merged); code != exitOK || !bytes.Equal(got, want) {
		t.Errorf("exit %d, stderr %q; merged equals one run: %v", code, errOut, bytes.Equal(got, want))
	}
	code, _, errOut = runCLIEnv(t, nil, "", append(append([]string{"merge", "-o", filepath.Join(dir, "m2.jsonl")}, outs...), "--", a, in)...)
	if code != exitError || !strings.Contains(errOut, "00.png") {
		t.Errorf("a repeated row the listing does not repeat: exit %d, stderr %q", code, errOut)
	}
}
