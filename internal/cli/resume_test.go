package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A file cut anywhere (a killed run: whole rows, then maybe half a row) is
// finished by --resume into exactly what one uninterrupted run writes.
func TestResumeFromAnyCut(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ext := range []string{"csv", "jsonl"} {
		whole := filepath.Join(dir, "whole."+ext)
		if code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--"+ext, whole, in); code != exitSomeFailed {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		want, _ := os.ReadFile(whole)
		cuts := []int{0, 1, len(want) - 1, len(want), bytes.IndexByte(want, '\n') + 1}
		for i := 0; i < 25; i++ {
			cuts = append(cuts, rng.IntN(len(want)))
		}
		for _, cut := range cuts {
			out := filepath.Join(dir, "resumed."+ext)
			if err := os.WriteFile(out, want[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--"+ext, out, in)
			if code != exitSomeFailed && code != exitOK {
				t.Fatalf("%s cut at %d: exit %d, stderr %q", ext, cut, code, errOut)
			}
			got, _ := os.ReadFile(out)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s cut at %d: resumed file differs:\n%s\nwant\n%s\nstderr %q", ext, cut, got, want, errOut)
			}
			torn := cut > 0 && want[cut-1] != '\n'
			if torn && !strings.Contains(errOut, "cut short") {
				t.Errorf("%s cut at %d: the torn row was not reported: %q", ext, cut, errOut)
			}
		}
		// A finished file is left as it is (CSV redoes its last input to the same rows).
		code, _, errOut := runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--"+ext, whole, in)
		got, _ := os.ReadFile(whole)
		if code == exitError || !bytes.Equal(got, want) {
			t.Errorf("%s: resuming a finished file: exit %d, stderr %q, changed: %v", ext, code, errOut, !bytes.Equal(got, want))
		}
	}
}

// --resume with --shard: each shard's file resumes on its own, and the
// merge is still one run's output.
func TestResumeShard(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", whole, in)
	want, _ := os.ReadFile(whole)
	var outs []string
	for i := 0; i < 3; i++ {
		out := filepath.Join(dir, "s"+string(rune('0'+i))+".jsonl")
		env := map[string]string{"JOB_COMPLETION_INDEX": string(rune('0' + i)), "AGEGENDER_SHARD_COUNT": "3"}
		runCLIEnv(t, env, "", "batch", "-q", "--resume", "--jsonl", out, in)
		data, _ := os.ReadFile(out)
		os.WriteFile(out, data[:len(data)*2/3], 0o644) // preempted
		runCLIEnv(t, env, "", "batch", "-q", "--resume", "--jsonl", out, in)
		outs = append(outs, out)
	}
	merged := filepath.Join(dir, "m.jsonl")
	if code, _, errOut := runCLIEnv(t, nil, "", append(append([]string{"merge", "-o", merged}, outs...), "--", in)...); code != exitOK {
		t.Fatalf("merge: exit %d, %q", code, errOut)
	}
	if got, _ := os.ReadFile(merged); !bytes.Equal(got, want) {
		t.Errorf("merged resumed shards differ from one run")
	}
}

func TestResumeRefuses(t *testing.T) {
	in := shardTree(t)
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.jsonl")
	content := "{\"input\":\"x\",\"detect\":\"auto\",\"faces\":[]}\nnot json\n{\"input\":\"y\"}\n"
	os.WriteFile(damaged, []byte(content), 0o644)
	locked := filepath.Join(dir, "locked.jsonl")
	f, err := os.Create(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--resume", in}, "needs an output file"},
		{[]string{"--resume", "--jsonl", "-", in}, "needs an output file"},
		{[]string{"--resume", "--json", filepath.Join(dir, "o.json"), in}, "needs an output file"},
		{[]string{"--resume", "--force", "--jsonl", filepath.Join(dir, "o.jsonl"), in}, "force"},
		{[]string{"--resume", "--jsonl", damaged, in}, "line 2"},
		{[]string{"--resume", "--jsonl", locked, in}, "another run"},
		{[]string{"--resume", "--jsonl", dir, in}, "not a regular file"},
	} {
		code, _, errOut := runCLIEnv(t, nil, "", append([]string{"batch", "-q"}, c.args...)...)
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
	if got, _ := os.ReadFile(damaged); string(got) != content {
		t.Errorf("a refused resume changed %s", damaged)
	}
	for _, name := range []string{"o.json", "o.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused run created %s", name)
		}
	}
}

// A path given twice is two inputs to resume too: one copy in the file
// leaves the other to do.
func TestResumeRepeatedPath(t *testing.T) {
	in := shardTree(t)
	a := filepath.Join(in, "d0", "00.png")
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	runCLIEnv(t, nil, "", "batch", "-q", "--jsonl", whole, a, in, a)
	want, _ := os.ReadFile(whole)
	out := filepath.Join(dir, "r.jsonl")
	os.WriteFile(out, want[:len(want)/2], 0o644)
	runCLIEnv(t, nil, "", "batch", "-q", "--resume", "--jsonl", out, a, in, a)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Errorf("resumed:\n%s\nwant\n%s", got, want)
	}
}
