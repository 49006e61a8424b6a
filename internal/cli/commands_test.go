package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/testutil"
)

// These run the commands in-process with a fake engine: flags, inputs,
// formats, output files and exit codes, without ONNX Runtime. The real
// engine and model are exercised by cmd/agegender's end-to-end tests.

func pngFile(t *testing.T, path string, w, h int) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, open OpenEngine, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, out, errOut := testStreams(stdin)
	code = Main(args, ios, open, "")
	return code, out.String(), errOut.String()
}

func TestPredictInProcess(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.png")
	pngFile(t, a, 40, 50)
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, "", "predict", "--json", "--detect", "on", "--threads", "2", a, filepath.Join(dir, "missing.png"))
	if code != exitSomeFailed {
		t.Fatalf("exit %d, want %d (one input missing); stderr %q", code, exitSomeFailed, errOut)
	}
	var got []struct {
		Input  string `json:"input"`
		Detect string `json:"detect"`
		Width  int    `json:"width"`
		Error  string `json:"error"`
		Faces  []struct {
			Age float64 `json:"age"`
		} `json:"faces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(got) != 2 || got[0].Input != a || got[0].Width != 40 || len(got[0].Faces) != 1 || got[0].Faces[0].Age != 40 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Detect != "on" || got[1].Detect != "on" {
		t.Errorf("rows not stamped with the engine's mode: %+v", got)
	}
	if got[1].Error == "" {
		t.Errorf("missing file has no error: %+v", got[1])
	}
	if op.config.Mode != face.DetectOn || op.config.Threads != 2 || !op.eng.closed {
		t.Errorf("engine config %+v, closed %v", op.config, op.eng.closed)
	}
}

func TestPredictStdin(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 33, 20)))
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, b.String(), "predict", "--csv", "-")
	if code != exitOK || !strings.Contains(out, "-,0,") || !strings.Contains(out, ",33.0") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestBatchInProcess(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"b/2.png", "a.jpg.png", "b/1.png"} {
		pngFile(t, filepath.Join(dir, "in", name), 40+i, 40)
	}
	outPath := filepath.Join(dir, "faces.csv")
	var op fakeOpener
	code, _, errOut := runCLI(t, op.open, "", "batch", "--quiet", "--csv", outPath, filepath.Join(dir, "in"))
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	// Lexical order of the paths, whatever order the workers finish in.
	re := regexp.MustCompile(`(?m)^[^,]*in/(\S+?),`)
	var order []string
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		order = append(order, m[1])
	}
	if strings.Join(order, " ") != "a.jpg.png b/1.png b/2.png" {
		t.Errorf("rows in order %v\n%s", order, data)
	}
	// A second run to the same file without --force keeps the first.
	code, _, errOut = runCLI(t, op.open, "", "batch", "--quiet", "--csv", outPath, filepath.Join(dir, "in"))
	if code != exitError || !strings.Contains(errOut, "exists") {
		t.Errorf("second run: exit %d, stderr %q", code, errOut)
	}
}

func TestBatchAnnotateInProcess(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.png")
	pngFile(t, in, 64, 64)
	ann := filepath.Join(dir, "ann")
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, "", "batch", "--quiet", "--annotate", ann, in)
	if code != exitOK || !strings.Contains(out, `"detect":"auto"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	var copies int
	filepath.Walk(ann, func(p string, _ os.FileInfo, _ error) error {
		if strings.HasSuffix(p, "x.png.annotated.jpg") {
			copies++
		}
		return nil
	})
	if copies != 1 {
		t.Errorf("%d annotated copies under %s, want 1", copies, ann)
	}
}

// Flags are checked before the engine starts or any output is created.
func TestUsageErrorsBeforeEngine(t *testing.T) {
	dir := t.TempDir()
	outPath := filepath.Join(dir, "o.csv")
	for _, args := range [][]string{
		{"predict", "--threads", "0", "x.png"},
		{"predict", "--detect", "sometimes", "x.png"},
		{"batch", "--workers", "-1", "--csv", outPath, dir},
		{"batch", "--min-score", "NaN", "--csv", outPath, dir},
		{"serve", "--port", "70000"},
		{"serve", "--max-memory", "1KB"},
		{"serve", "--max-upload-memory", "40MB"},
		{"serve", "--max-upload-memory", "lots"},
		{"serve", "--max-upload-memory", "256MB"},
		{"serve", "--drain-delay", "-1s"},
		{"serve", "--log-level", "loud"},
		{"serve", "--max-batch", "0"},
		{"serve", "--batch-window", "1s"},
	} {
		code, _, errOut := runCLI(t, noEngine(t), "", args...)
		if code != exitError || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, err := os.Stat(outPath); !os.IsNotExist(err) {
		t.Errorf("an output file was created: %v", err)
	}
}

// A setup error from the engine is exit 1 and leaves no output file.
func TestEngineOpenErrorInProcess(t *testing.T) {
	dir := t.TempDir()
	pngFile(t, filepath.Join(dir, "a.png"), 40, 40)
	outPath := filepath.Join(dir, "o.csv")
	failing := func(context.Context, face.EngineConfig) (Engine, error) {
		return nil, fmt.Errorf("onnxruntime not found")
	}
	code, _, errOut := runCLI(t, failing, "", "batch", "--csv", outPath, dir)
	if code != exitError || !strings.Contains(errOut, "onnxruntime not found") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(outPath); !os.IsNotExist(err) {
		t.Errorf("an output file was left: %v", err)
	}
}

func TestEvalInProcess(t *testing.T) {
	dir := t.TempDir()
	// UTKFace names: age_gender_race_date; the fake says age = width.
	pngFile(t, filepath.Join(dir, "40_1_0_20170103200329407.jpg.chip.png"), 40, 40)
	pngFile(t, filepath.Join(dir, "50_1_0_20170103200329408.jpg.chip.png"), 44, 40)
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, "", "eval", "--quiet", "--detect", "off", "--json", dir)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var sum struct {
		Model  string `json:"model"`
		Detect string `json:"detect"`
		Counts struct {
			Scored int `json:"scored"`
		} `json:"counts"`
		Overall struct {
			AgeMAE   float64 `json:"age_mae"`
			GenderOK float64 `json:"gender_accuracy"`
		} `json:"overall"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if sum.Model != "fake" || sum.Detect != "off" || sum.Counts.Scored != 2 || sum.Overall.AgeMAE != 3 || sum.Overall.GenderOK != 1 {
		t.Errorf("summary %+v from %s", sum, out)
	}
}

func TestServeInProcess(t *testing.T) {
	var op fakeOpener
	ios, _, errOut := testStreams("")
	pr, pw := io.Pipe()
	ios.ErrOut = io.MultiWriter(errOut, pw)
	ctx, cancel := context.WithCancel(context.Background())
	root := newRoot(ios, op.open, "")
	root.SetArgs([]string{"serve", "--host", "127.0.0.1", "--port", "0", "--detect", "off"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()

	// The server names its address once it listens.
	line := make([]byte, 256)
	n, _ := pr.Read(line)
	go io.Copy(io.Discard, pr)
	// stderr is not a terminal here, so the log is JSON lines.
	if !strings.HasPrefix(string(line[:n]), `{"time":`) || !strings.Contains(string(line[:n]), `"msg":"serving"`) {
		t.Errorf("first log line %q is not serve's JSON line", line[:n])
	}
	addr := regexp.MustCompile(`http://[0-9.:]+`).FindString(string(line[:n]))
	if addr == "" {
		cancel()
		t.Fatalf("no address in %q", line[:n])
	}

	var img bytes.Buffer
	png.Encode(&img, image.NewNRGBA(image.Rect(0, 0, 48, 48)))
	body, ct := testutil.MultipartFile(t, "file", "x.png", img.Bytes())
	resp, err := http.Post(addr+"/predict", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Age float64 `json:"age"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got.Age != 48 {
		t.Errorf("status %d, age %v", resp.StatusCode, got.Age)
	}
	health, err := http.Get(addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(health.Body)
	health.Body.Close()
	if !strings.Contains(string(hb), `"model":"fake"`) {
		t.Errorf("health %s", hb)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
	if !op.eng.closed {
		t.Error("engine not closed")
	}
}

func TestVersionInProcess(t *testing.T) {
	var op fakeOpener
	code, out, errOut := runCLI(t, op.open, "", "version", "--json")
	if code != exitOK || !strings.Contains(out, `"model": "fake"`) || !strings.Contains(out, `"ort_version": "none"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The detector is reported too, so it must be loaded.
	if op.config.Mode == face.DetectOff {
		t.Error("version opened the engine without its detector, which it reports")
	}
	if !strings.Contains(out, `"detector"`) {
		t.Errorf("no detector in %s", out)
	}
}

func TestWorkerCount(t *testing.T) {
	for _, c := range []struct{ workers, threads, cores, want int }{
		{0, 1, 16, 16}, // the default: one single-threaded worker per core
		{0, 4, 16, 4},  // --threads 4 on 16 cores: 4 workers, 16 threads
		{0, 8, 2, 1},   // never no worker
		{3, 4, 16, 3},  // --workers wins
	} {
		if got := workerCount(c.workers, c.threads, c.cores); got != c.want {
			t.Errorf("workerCount(%d, %d, %d) = %d, want %d", c.workers, c.threads, c.cores, got, c.want)
		}
	}
}

// An output flag followed by another flag took it as its file name:
// `batch DIR --jsonl --quiet` wrote a file named "--quiet".
func TestOutputFlagRefusesFlagLikeValue(t *testing.T) {
	dir := t.TempDir()
	pngFile(t, filepath.Join(dir, "in", "a.png"), 40, 40)
	in := filepath.Join(dir, "in")
	t.Chdir(dir)
	for _, args := range [][]string{
		{"batch", in, "--jsonl", "--quiet"},
		{"batch", in, "--csv", "-q"},
		{"batch", in, "--json", "--force"},
		{"batch", in, "--annotate", "--quiet"},
		{"predict", "--annotate", "-x", filepath.Join(in, "a.png")},
		{"eval", "--report", "--split", in},
	} {
		code, _, errOut := runCLI(t, noEngine(t), "", args...)
		if code != exitError || !strings.Contains(errOut, "starts with '-'") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "in" {
			t.Errorf("a refused run left %s", e.Name())
		}
	}
	// "-" itself is stdout, and ./-x is a file named -x.
	var op fakeOpener
	if code, out, errOut := runCLI(t, op.open, "", "batch", "--quiet", "--jsonl", "-", in); code != exitOK || !strings.Contains(out, "a.png") {
		t.Errorf("--jsonl -: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, op.open, "", "batch", "--quiet", "--csv", "./-x.csv", in); code != exitOK {
		t.Errorf("--csv ./-x.csv: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "-x.csv")); err != nil {
		t.Error(err)
	}
}
