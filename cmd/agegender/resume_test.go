//go:build cgo

package main_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/testutil"
)

// inputsOf lists the input of every record of a JSON Lines or CSV output,
// in file order (a CSV input once, however many faces it has).
func inputsOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if strings.HasSuffix(path, ".csv") {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range rows[1:] {
			if len(names) == 0 || names[len(names)-1] != r[0] {
				names = append(names, r[0])
			}
		}
		return names
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var v struct{ Input string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v in %q", path, err, sc.Text())
		}
		names = append(names, v.Input)
	}
	return names
}

// rowsIn counts the complete rows (lines) of the file at path.
func rowsIn(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

// waitForRows closes grown once rows() reaches n, polling, unless stop is
// closed first.
func waitForRows(rows func() int, n int, grown, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		if rows() >= n {
			close(grown)
			return
		}
	}
}

// resumeArgs is the resume tests' batch command line, more appended. The
// fast preset: what they check (rows kept, cut, redone and appended in
// input order) is the same whatever the model, and its model takes under
// half the accurate one's CPU.
func resumeArgs(more ...string) []string {
	return append([]string{"batch", "--detect", "off", "--model", "fast", "-q"}, more...)
}

// The inputs the resume tests share, written once per run of the test
// binary, and one uninterrupted run's output of them in each format: the
// clean runs and the 1,200 and 1,500 inputs each test wrote for itself were
// most of their time. 240 inputs leave room for a dozen kills of 1-40 rows.
var resumeShared struct {
	once  sync.Once
	in    string
	err   error
	mu    sync.Mutex
	clean map[string]string
}

// resumeInputs writes 240 PNGs into five subfolders, so that the listing
// crosses folders, and returns their parent.
func resumeInputs(t *testing.T) string {
	t.Helper()
	resumeShared.once.Do(func() {
		dir, err := shared()
		if err != nil {
			resumeShared.err = err
			return
		}
		in := filepath.Join(dir, "resume-in")
		for i := 0; i < 240 && err == nil; i++ {
			sub := filepath.Join(in, fmt.Sprintf("d%d", i%5))
			if err = os.MkdirAll(sub, 0o755); err == nil {
				err = encodePNG(filepath.Join(sub, fmt.Sprintf("%03d.png", i)), 48+i%17, 48+i%13, i)
			}
		}
		resumeShared.in, resumeShared.err = in, err
	})
	if resumeShared.err != nil {
		t.Fatalf("resume inputs: %v", resumeShared.err)
	}
	return resumeShared.in
}

// cleanRun returns the output of one uninterrupted run over resumeInputs
// in ext (jsonl or csv), made on first use.
func cleanRun(t *testing.T, ext string) string {
	t.Helper()
	in := resumeInputs(t)
	resumeShared.mu.Lock()
	defer resumeShared.mu.Unlock()
	if p, ok := resumeShared.clean[ext]; ok {
		return p
	}
	p := filepath.Join(filepath.Dir(in), "clean."+ext)
	if r := agegender(t, nil, resumeArgs("--"+ext, p, in)...); r.code != 0 {
		t.Fatalf("clean run: exit %d: %s", r.code, r.stderr)
	}
	if resumeShared.clean == nil {
		resumeShared.clean = map[string]string{}
	}
	resumeShared.clean[ext] = p
	return p
}

// SIGKILL at random points, then the same command with --resume, until a
// run finishes: the file holds every input exactly once, in input order,
// as one uninterrupted run does, whatever row the kills cut in half.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary many times")
	}
	t.Parallel()
	for i, ext := range []string{"jsonl", "csv"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			// A fixed seed: the rows each round waits for are the same
			// every run, so that a failure can be run again as it was.
			killAndResume(t, ext, rand.New(rand.NewPCG(2026, uint64(15+i))))
		})
	}
}

// killAndResume runs batch --resume into a fresh ext file, killing it
// after random numbers of rows, until a run finishes, and compares the
// inputs of the file with a clean run's.
func killAndResume(t *testing.T, ext string, rng *rand.Rand) {
	in := resumeInputs(t)
	clean := cleanRun(t, ext)
	want := inputsOf(t, clean)
	cleanData, _ := os.ReadFile(clean)
	env := append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t))
	out := filepath.Join(t.TempDir(), "resumed."+ext)
	kills, torn := 0, 0
	var at []int // lines in the file after each kill
	for round := 0; ; round++ {
		if round == 30 {
			t.Fatalf("%s: no run finished in 30 rounds", ext)
		}
		cmd := exec.Command(binary(t), resumeArgs("--workers", "2", "--resume", "--"+ext, out, in)...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Killed once the file has grown by a random 1-40 rows, not after
		// a time: on a loaded machine a run may write nothing in its first
		// second, and every round must make progress.
		grown := make(chan struct{})
		stop := make(chan struct{})
		go waitForRows(func() int { return rowsIn(out) }, rowsIn(out)+1+rng.IntN(40), grown, stop)
		select {
		case err := <-exited:
			close(stop)
			if err != nil {
				t.Fatalf("%s round %d: %v: %s", ext, round, err, stderr.String())
			}
		case <-grown:
			cmd.Process.Kill() // SIGKILL: no handler runs
			<-exited
			kills++
			data, _ := os.ReadFile(out)
			at = append(at, bytes.Count(data, []byte("\n")))
			if len(data) > 0 && data[len(data)-1] != '\n' {
				torn++
			} else if kills%2 == 0 {
				// A kill inside a row's write(2) is rare with rows this
				// short; every other round makes one: half of the row
				// that comes next.
				next := bytes.SplitAfter(cleanData, []byte("\n"))[bytes.Count(data, []byte("\n"))]
				f, _ := os.OpenFile(out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
				f.Write(next[:len(next)/2])
				f.Close()
				torn++
			}
			continue
		}
		break
	}
	got := inputsOf(t, out)
	if !slices.Equal(got, want) {
		t.Errorf("%s after %d kills: %d inputs, want %d; first difference at %d", ext, kills, len(got), len(want), firstDiff(got, want))
	}
	t.Logf("figures: %s: %d SIGKILLs with %v lines written (%d left a cut-short last row, most of them made by the test), %d inputs, none lost or repeated", ext, kills, at, torn, len(got))
	if kills == 0 {
		t.Errorf("%s: the first run finished before any kill; the test proved nothing", ext)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
