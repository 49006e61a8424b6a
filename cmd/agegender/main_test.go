//go:build cgo

// The end-to-end tests run the built binary with ONNX Runtime, so they
// build only where cgo is on.

package main_test

// End-to-end tests: build the real binary and run predict, batch and serve
// as a user would, with the real ONNX Runtime and the embedded model.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/testutil"
)

// TestMain removes the inputs the tests share across one run of the test
// binary, which no test's TempDir holds.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// binary builds agegender once per test binary run, into out/e2e of the
// repository: go build relinks only when the binary's sources changed, so
// a warm run finds it built in a second where linking took 6-15 s. Linked
// with -s -w, as the release is (.goreleaser.yaml), which halves the link.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir := filepath.Join(testutil.RepoRoot(t), "out", "e2e")
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		binPath = filepath.Join(dir, "agegender")
		out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type run struct {
	stdout, stderr string
	code           int
}

// agegender runs the binary with the native pieces found by testutil.
func agegender(t *testing.T, stdin io.Reader, args ...string) run {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t))
	cmd.Stdin = stdin
	return runCommand(t, cmd)
}

// runCommand runs cmd and returns its output and exit code; a command that
// could not be run fails the test.
func runCommand(t *testing.T, cmd *exec.Cmd) run {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{out.String(), errOut.String(), code}
}

func writePNG(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	if err := encodePNG(path, w, h, seed); err != nil {
		t.Fatal(err)
	}
}

// encodePNG writes writePNG's image, for the inputs tests share.
func encodePNG(path string, w, h, seed int) error {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x + seed*30), uint8(y * 2), uint8(x ^ y), 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG is a valid PNG header declaring 50000x50000 pixels and no data.
func hugePNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte{0, 0, 0xC3, 0x50, 0, 0, 0xC3, 0x50, 8, 6, 0, 0, 0}
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write([]byte{0, 0, 0, 13})
	b.Write(chunk)
	crc := crc32IEEE(chunk)
	b.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return b.Bytes()
}

func TestPredictFormats(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	writePNG(t, img, 200, 200, 1)

	r := agegender(t, nil, "predict", "--detect", "off", img)
	if r.code != 0 || !strings.Contains(r.stdout, "gender_probability") || !strings.Contains(r.stdout, img) {
		t.Fatalf("table: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = agegender(t, nil, "predict", "--detect", "off", "--json", img)
	var objs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || len(objs) != 1 {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if objs[0]["detect"] != "off" || len(objs[0]["faces"].([]any)) != 1 {
		t.Errorf("--json object %v", objs[0])
	}

	r = agegender(t, nil, "predict", "--detect", "off", "--csv", img)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "input" {
		t.Fatalf("--csv: %v\n%s", err, r.stdout)
	}

	// One image from stdin.
	f, _ := os.Open(img)
	defer f.Close()
	r = agegender(t, f, "predict", "--detect", "off", "--jsonl", "-")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `{"input":"-"`) {
		t.Fatalf("stdin: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestBatchReportsEveryInputAndBadFiles(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(filepath.Join(in, "sub"), 0o755)
	writePNG(t, filepath.Join(in, "good1.png"), 120, 120, 1)
	writePNG(t, filepath.Join(in, "sub", "GOOD2.PNG"), 90, 140, 2)
	os.WriteFile(filepath.Join(in, "notes.txt"), []byte("not picked up: wrong extension"), 0o644)
	bad := map[string][]byte{
		"empty.jpg":     {},
		"truncated.jpg": jpegBytes(t, 300, 200)[:400],
		"text.jpg":      []byte("this is not a picture\n"),
		"huge.png":      hugePNG(),
	}
	for name, data := range bad {
		os.WriteFile(filepath.Join(in, name), data, 0o644)
	}
	// Unreadable: a dangling link (root reads chmod 000 files anyway).
	os.Symlink(filepath.Join(dir, "gone.jpg"), filepath.Join(in, "dangling.jpg"))
	if os.Geteuid() != 0 {
		p := filepath.Join(in, "locked.jpg")
		os.WriteFile(p, jpegBytes(t, 50, 50), 0o000)
	}

	out := filepath.Join(dir, "out.csv")
	r := agegender(t, nil, "batch", "--detect", "off", "--quiet", in, "--csv", out)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (some inputs failed)\n%s", r.code, r.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	errText := map[string]string{}
	for _, row := range rows[1:] {
		name := filepath.Base(row[0])
		seen[name]++
		errText[name] = row[len(row)-1]
	}
	want := []string{"good1.png", "GOOD2.PNG", "empty.jpg", "truncated.jpg", "text.jpg", "huge.png", "dangling.jpg"}
	if os.Geteuid() != 0 {
		want = append(want, "locked.jpg")
	}
	if len(rows)-1 != len(want) {
		t.Errorf("%d rows, want %d: %v", len(rows)-1, len(want), seen)
	}
	for _, name := range want {
		if seen[name] != 1 {
			t.Errorf("%s appears %d times, want once", name, seen[name])
		}
	}
	reasons := map[string]string{
		"empty.jpg": "empty file", "truncated.jpg": "truncated or corrupt jpeg",
		"text.jpg": "not a supported image", "huge.png": "megapixel limit", "dangling.jpg": "no such file",
		"locked.jpg": "permission denied",
	}
	for name, reason := range reasons {
		if name == "locked.jpg" && os.Geteuid() == 0 {
			continue
		}
		if !strings.Contains(errText[name], name) || !strings.Contains(errText[name], reason) {
			t.Errorf("%s: error %q should name the file and say %q", name, errText[name], reason)
		}
	}
	for _, good := range []string{"good1.png", "GOOD2.PNG"} {
		if errText[good] != "" {
			t.Errorf("%s failed: %s", good, errText[good])
		}
	}
	if seen["notes.txt"] != 0 {
		t.Error("notes.txt was picked up from the folder")
	}

	// The output exists now: without --force it is kept as it was.
	before, _ := os.ReadFile(out)
	r = agegender(t, nil, "batch", "--detect", "off", "--quiet", in, "--csv", out)
	after, _ := os.ReadFile(out)
	if r.code != 1 || !strings.Contains(r.stderr, "--force") || !bytes.Equal(before, after) {
		t.Errorf("overwrite without --force: exit %d, stderr %q, file changed %v", r.code, r.stderr, !bytes.Equal(before, after))
	}
	r = agegender(t, nil, "batch", "--detect", "off", "--quiet", "--force", in, "--csv", out)
	if r.code != 2 {
		t.Errorf("--force: exit %d\n%s", r.code, r.stderr)
	}
}

func TestBatchReadsNULSeparatedPathsFromStdin(t *testing.T) {
	t.Parallel() // processes of its own, in folders of its own
	dir := t.TempDir()
	var list bytes.Buffer
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, fmt.Sprintf("img %d.png", i)) // spaces survive -0
		writePNG(t, p, 80, 80, i)
		list.WriteString(p + "\x00")
	}
	r := agegender(t, &list, "batch", "--detect", "off", "-0", "-")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d JSON lines, want 5", len(lines))
	}
	for i, l := range lines {
		var obj struct{ Input string }
		if err := json.Unmarshal([]byte(l), &obj); err != nil || !strings.HasSuffix(obj.Input, fmt.Sprintf("img %d.png", i)) {
			t.Errorf("line %d: %v %q", i, err, l)
		}
	}
	if !strings.Contains(r.stderr, "5 inputs: 5 ok, 0 failed") {
		t.Errorf("summary missing from stderr: %q", r.stderr)
	}
}

func TestUsageErrorsExitOne(t *testing.T) {
	for _, args := range [][]string{
		{"predict"},
		{"batch"},
		{"predict", "--detect", "sideways", "x.png"},
		{"batch", "--csv", "a.csv", "--json", "b.json", "."},
		{"nosuchcommand"},
	} {
		if r := agegender(t, nil, args...); r.code != 1 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 1 with a message", args, r.code, r.stderr)
		}
	}
}

// startServe runs agegender serve with args on a free loopback port until
// the test ends, and returns its base URL once /health answers, with the
// process and its stderr.
func startServe(t *testing.T, args ...string) (string, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(binary(t), append([]string{"serve", "--port", fmt.Sprint(port)}, args...)...)
	cmd.Env = append(os.Environ(), "AGEGENDER_ORT_LIB="+testutil.ORTLibrary(t))
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			return base, cmd, &errOut
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %s", errOut.String())
		}
		// A refused connection costs nothing; the server is up in a few
		// tenths of a second.
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServe(t *testing.T) {
	base, cmd, errOut := startServe(t, "--detect", "auto")
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["status"] != "ok" || h["ort_version"] == "" || h["model"] == "" {
		t.Fatalf("health %v", h)
	}

	dir := t.TempDir()
	img := filepath.Join(dir, "crop.png")
	writePNG(t, img, 200, 200, 3)
	data, _ := os.ReadFile(img)
	body, ct := testutil.MultipartFile(t, "file", "crop.png", data)
	resp, err = http.Post(base+"/predict", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, got)
	}
	if _, ok := got["age"].(float64); !ok || (got["gender"] != "Male" && got["gender"] != "Female") {
		t.Errorf("reference fields missing: %v", got)
	}

	resp, err = http.Post(base+"/predict", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("non-multipart: status %d, want 400", resp.StatusCode)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM: %s", err, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
}

func TestVersion(t *testing.T) {
	r := agegender(t, nil, "version")
	if r.code != 0 || !strings.Contains(r.stdout, "ONNX Runtime 1.") || !strings.Contains(r.stdout, "model agegender-") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
