//go:build cgo

package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/agegender/agegender/internal/testutil"
)

// deployRow is what the deploy test compares of each input.
type deployRow struct {
	Input string `json:"input"`
	Error string `json:"error"`
	Faces []struct {
		Detected          bool    `json:"detected"`
		Age               float64 `json:"age"`
		Gender            string  `json:"gender"`
		GenderProbability float64 `json:"gender_probability"`
	} `json:"faces"`
}

func readRows(t *testing.T, path string) []deployRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []deployRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r deployRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// sameRow allows the last digit that ONNX Runtime's batching moves (the
// README's sharding section: an image's age differs by 0.01 with the images
// batched beside it).
func sameRow(a, b deployRow) bool {
	if a.Input != b.Input || a.Error != b.Error || len(a.Faces) != len(b.Faces) {
		return false
	}
	for i := range a.Faces {
		fa, fb := a.Faces[i], b.Faces[i]
		if fa.Detected != fb.Detected || fa.Gender != fb.Gender ||
			math.Abs(fa.Age-fb.Age) > 0.05 || math.Abs(fa.GenderProbability-fb.GenderProbability) > 0.005 {
			return false
		}
	}
	return true
}

// k8sJob reads the Indexed Job manifest's args, env values and completions.
func k8sJob(t *testing.T) (args []string, env map[string]string, completions int) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/kubernetes/indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+args: (\[.*\])$`).FindSubmatch(data)
	if m == nil || json.Unmarshal(m[1], &args) != nil {
		t.Fatalf("indexed-job.yaml: no args line in JSON flow style")
	}
	env = map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+- name: (\w+)\n\s+value: "?([^"\n#]*?)"?\s*(#.*)?$`).FindAllSubmatch(data, -1) {
		env[string(m[1])] = string(m[2])
	}
	c := regexp.MustCompile(`(?m)^  completions: (\d+)$`).FindSubmatch(data)
	if c == nil {
		t.Fatal("indexed-job.yaml: no completions")
	}
	fmt.Sscan(string(c[1]), &completions)
	return args, env, completions
}

// The deploy recipes, run as N local processes with the variables their
// scheduler sets: the Indexed Job's args (with $(VAR) expanded as the
// kubelet does) and the Slurm script itself. Their parts hold every input
// of one run exactly once, row for row, and merge back into its order.
func TestDeployRecipes(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	dir := t.TempDir()
	in := filepath.Join(dir, "photos")
	// 32 inputs, 4 a process of the 8 the manifest starts: whether each
	// lands in one part and merges back in order is as plain with them as
	// with the 60 of before.
	for i := 0; i < 32; i++ {
		sub := filepath.Join(in, fmt.Sprintf("album%d", i%4))
		os.MkdirAll(sub, 0o755)
		writePNG(t, filepath.Join(sub, fmt.Sprintf("%02d.png", i)), 48+i, 64, i)
	}
	os.WriteFile(filepath.Join(in, "broken.jpg"), []byte("not a jpeg"), 0o644)
	single := filepath.Join(dir, "single.jsonl")
	if r := agegender(t, nil, "batch", in, "--quiet", "--jsonl", single); r.code != 2 {
		t.Fatalf("single run: exit %d: %s", r.code, r.stderr)
	}
	want := readRows(t, single)

	args, jobEnv, completions := k8sJob(t)
	if jobEnv["AGEGENDER_SHARD_COUNT"] != fmt.Sprint(completions) {
		t.Fatalf("indexed-job.yaml: AGEGENDER_SHARD_COUNT %q is not completions %d", jobEnv["AGEGENDER_SHARD_COUNT"], completions)
	}
	if args[0] != "batch" || !slicesContains(args, "--resume") {
		t.Fatalf("indexed-job.yaml args %q", args)
	}
	bin := binary(t)
	slurmCount := 3
	for _, c := range []recipe{
		{"kubernetes", completions, func(i int, out string) *exec.Cmd {
			env := map[string]string{"INPUT": in, "OUTPUT": out, "JOB_COMPLETION_INDEX": fmt.Sprint(i),
				"AGEGENDER_SHARD_COUNT": jobEnv["AGEGENDER_SHARD_COUNT"]}
			expanded := make([]string, len(args))
			for k, a := range args {
				expanded[k] = regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(a, func(v string) string { return env[v[2:len(v)-1]] })
			}
			cmd := exec.Command(bin, expanded...)
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			return cmd
		}, func(i int, out string) string { return filepath.Join(out, fmt.Sprintf("part-%d.jsonl", i)) }},
		{"slurm", slurmCount, func(i int, out string) *exec.Cmd {
			// --array=1-3: ids from 1, as sbatch numbers them when asked to.
			cmd := exec.Command("bash", "../../deploy/slurm/agegender-array.sh")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "INPUT=" + in, "OUTPUT=" + out, "AGEGENDER=" + bin,
				"SLURM_ARRAY_TASK_ID=" + fmt.Sprint(i+1), "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=3",
				"SLURM_ARRAY_TASK_COUNT=" + fmt.Sprint(slurmCount), "SLURM_CPUS_PER_TASK=1"}
			return cmd
		}, func(i int, out string) string { return filepath.Join(out, fmt.Sprintf("part-%d.jsonl", i+1)) }},
	} {
		// The recipes write to folders of their own: run side by side.
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(dir, c.name)
			os.MkdirAll(out, 0o755)
			c.run(t, out, in, want)
		})
	}
}

// recipe is a deploy recipe as the test runs it: n processes, the command
// of each, and the part it writes.
type recipe struct {
	name string
	n    int
	cmd  func(i int, out string) *exec.Cmd
	part func(i int, out string) string
}

// run starts the recipe's processes at once, checks that their parts hold
// every input of want exactly once with its row, and that merge puts them
// back in want's order.
func (c recipe) run(t *testing.T, out, in string, want []deployRow) {
	native := []string{"AGEGENDER_ORT_LIB=" + testutil.ORTLibrary(t)}
	var wg sync.WaitGroup
	errs := make([]string, c.n)
	for i := 0; i < c.n; i++ {
		cmd := c.cmd(i, out)
		cmd.Env = append(cmd.Env, native...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Exit 2: broken.jpg failed in the shard that has it.
			if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 2 {
				errs[i] = fmt.Sprintf("%v: %s", err, stderr.String())
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Fatalf("%s process %d: %s", c.name, i, e)
		}
	}
	seen := map[string]deployRow{}
	var parts []string
	for i := 0; i < c.n; i++ {
		p := c.part(i, out)
		parts = append(parts, p)
		for _, r := range readRows(t, p) {
			if _, dup := seen[r.Input]; dup {
				t.Errorf("%s: %s is in two parts", c.name, r.Input)
			}
			seen[r.Input] = r
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%s: %d inputs in the parts, one run has %d", c.name, len(seen), len(want))
	}
	for _, w := range want {
		if g, ok := seen[w.Input]; !ok || !sameRow(g, w) {
			t.Errorf("%s: %s: parts have %+v (found %v), one run %+v", c.name, w.Input, g, ok, w)
		}
	}
	merged := filepath.Join(out, "all.jsonl")
	if r := agegender(t, nil, append(append([]string{"merge", "--out", merged}, parts...), "--", in)...); r.code != 0 {
		t.Fatalf("%s: merge: exit %d: %s", c.name, r.code, r.stderr)
	}
	got := readRows(t, merged)
	for i := range want {
		if i >= len(got) || got[i].Input != want[i].Input {
			t.Fatalf("%s: merged row %d is not one run's", c.name, i)
		}
	}
	t.Logf("figures: deploy %s: %d processes, %d inputs, each in one part, merged in order", c.name, c.n, len(seen))
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// No Docker daemon runs here or in CI, so the Dockerfile is checked against
// the archive it is built from: the archive name goreleaser writes, the
// folder it wraps its files in, and the binary, lib/ and models/ the image
// runs, as .goreleaser.yaml lays them out.
func TestDockerfileMatchesArchive(t *testing.T) {
	dockerfile, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	release, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rel := string(release)
	df := string(dockerfile)
	// The archive's name and folder (wrap_in_directory).
	if !strings.Contains(rel, `name_template: "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"`) ||
		!strings.Contains(rel, "wrap_in_directory: true") || !strings.Contains(rel, "project_name: agegender") {
		t.Fatal(".goreleaser.yaml's archive name or layout changed; update deploy/Dockerfile and this test")
	}
	archive := "dist/agegender_${VERSION}_linux_${TARGETARCH}.tar.gz"
	if !regexp.MustCompile(`(?m)^ADD ` + regexp.QuoteMeta(archive) + ` /opt/$`).MatchString(df) {
		t.Errorf("Dockerfile does not ADD %s to /opt/", archive)
	}
	if !strings.Contains(df, "mv /opt/agegender_${VERSION}_linux_${TARGETARCH} /opt/agegender") {
		t.Error("Dockerfile does not move the archive's folder to /opt/agegender")
	}
	// What the binary needs beside it is in the archive: lib/ and models/.
	for _, f := range []string{"src: \".deps/dist/{{ .Os }}_{{ .Arch }}/lib/libonnxruntime.so.1\"\n        dst: lib",
		"- models/yunet_n.onnx", "- models/accurate.onnx", "- models/fast.onnx"} {
		if !strings.Contains(rel, f) {
			t.Errorf(".goreleaser.yaml no longer puts %q in the archive", f)
		}
	}
	if !strings.Contains(rel, "binary: agegender") {
		t.Error(".goreleaser.yaml's binary is not named agegender")
	}
	if !strings.Contains(df, `ENTRYPOINT ["/opt/agegender/agegender"]`) {
		t.Error("Dockerfile's ENTRYPOINT is not the archive's binary")
	}
	// Every instruction is one Docker knows, and the image runs unprivileged.
	known := map[string]bool{"FROM": true, "ARG": true, "RUN": true, "ADD": true, "COPY": true, "USER": true, "WORKDIR": true, "ENTRYPOINT": true, "CMD": true, "ENV": true, "LABEL": true}
	cont := false
	for _, line := range strings.Split(df, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if !cont {
			word, _, _ := strings.Cut(trimmed, " ")
			if !known[word] {
				t.Errorf("Dockerfile: unknown instruction %q", word)
			}
		}
		cont = strings.HasSuffix(trimmed, "\\")
	}
	if !strings.Contains(df, "USER 65532") {
		t.Error("Dockerfile runs as root")
	}
	// The manifest runs the image's entrypoint with batch's args.
	if !strings.Contains(df, "FROM debian:") {
		t.Error("Dockerfile's base is not Debian (ONNX Runtime needs glibc and libstdc++)")
	}
}
