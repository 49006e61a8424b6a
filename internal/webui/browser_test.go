package webui_test

import (
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agegender/agegender/internal/webui"
	"github.com/agegender/agegender/internal/webui/webuitest"
)

// intervalAnswer is a face from a model that gives an age interval.
const intervalAnswer = `{"age":34,"gender":"Female","gender_probability":0.81,"faces":[
 {"index":0,"box":{"x":8,"y":6,"w":30,"h":36},"score":0.91,"age":34.4,"age_low":29.2,"age_high":41.3,
  "gender":"Female","gender_probability":0.81,"detected":true},
 {"index":1,"box":{"x":0,"y":0,"w":64,"h":48},"score":0,"age":7.6,
  "gender":"Male","gender_probability":0.55,"detected":false}],"width":64,"height":48}`

// fakePredict answers as /predict would, by the uploaded file's name, so
// that every branch of the page is reached without the engine.
func fakePredict(w http.ResponseWriter, r *http.Request) {
	_, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.Contains(hdr.Filename, "busy"):
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"server busy: no free inference slot: context deadline exceeded"}`)
	case strings.Contains(hdr.Filename, "large"):
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"error":"image needs 300.0 MB, too large of 240.0 MB for one image"}`)
	default:
		io.WriteString(w, intervalAnswer)
	}
}

// TestPageBranches drives the page against a fake /predict: the age
// interval and a face taken whole, the busy and too-large answers, a drop
// and a paste, and the raw JSON with its copy button.
func TestPageBranches(t *testing.T) {
	page, err := webui.New(webui.Options{MaxUpload: 20 << 20, MaxUploadText: "20 MB"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", page)
	mux.Handle(webui.ScriptPath, page)
	mux.Handle(webui.StylePath, page)
	mux.HandleFunc("/predict", fakePredict)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, consoleErrors := webuitest.Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state, err := webuitest.Upload(ctx, writePNG(t, dir, "interval.png"))
	if err != nil || state != "done" {
		t.Fatalf("interval.png: state %q, %v", state, err)
	}
	checkInterval(t, ctx)
	checkRawJSON(t, ctx)
	for name, want := range map[string]string{
		"busy.png":  "The server is busy; try again in 3 seconds.",
		"large.png": "“large.png” is too large for this server: image needs 300.0 MB, too large of 240.0 MB for one image",
	} {
		state, err := webuitest.Upload(ctx, writePNG(t, dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if status, _ := webuitest.Status(ctx); state != "error" || !strings.Contains(status, want) {
			t.Errorf("%s: state %q, status %q; want error %q", name, state, status, want)
		}
	}
	checkDropAndPaste(t, ctx)
	if bad := consoleErrors(); len(bad) > 0 {
		t.Errorf("the page's console has errors:\n%s", strings.Join(bad, "\n"))
	}
}

func checkInterval(t *testing.T, ctx context.Context) {
	t.Helper()
	got, err := webuitest.Faces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []webuitest.Shown{
		{Row: "1\tFemale 81%\t34 (29–41)\t0.91", Tag: "1 Female 81% · age 34 (29–41)"},
		{Row: "2\tMale 55%\t8\twhole photo no face detected", Tag: "2 Male 55% · age 8"},
	}
	if len(got) != len(want) {
		t.Fatalf("faces shown %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("face %d shown as %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

// checkRawJSON opens the raw JSON, which must be the answer, and copies it.
func checkRawJSON(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#raw summary")), chromedp.Click(chromedp.CSS("#copy"))); err != nil {
		t.Fatal(err)
	}
	raw, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#json")))
	if err != nil {
		t.Fatal(err)
	}
	var shown, answer any
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatalf("raw JSON %q: %v", raw, err)
	}
	json.Unmarshal([]byte(intervalAnswer), &answer)
	if b1, _ := json.Marshal(shown); string(b1) != mustMarshal(answer) {
		t.Errorf("raw JSON shown %s, want %s", b1, mustMarshal(answer))
	}
	// Headless Chromium may refuse the clipboard; the page then selects the
	// text and says so. Either way it answers the click.
	copied, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("copy-status").textContent`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
	if err != nil || !(copied == "Copied." || strings.HasPrefix(copied, "Selected")) {
		t.Errorf("copy: status %q, %v", copied, err)
	}
	t.Logf("copy button: %q", copied)
}

// checkDropAndPaste sends a photo as a drop and as a paste, the ways a
// person gets one onto the page besides the file input.
func checkDropAndPaste(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, event := range []string{
		`new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})`,
		`new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})`,
	} {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(() => {
			delete document.getElementById("app").dataset.state;
			const dt = new DataTransfer();
			dt.items.add(new File([new Uint8Array([137, 80, 78, 71])], "given.png", {type: "image/png"}));
			document.body.dispatchEvent(`+event+`);
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		state, err := chromedp.Run(ctx, chromedp.Poll[string](
			`(s => s !== "busy" && s)(document.getElementById("app").dataset.state)`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
		status, _ := webuitest.Status(ctx)
		if err != nil || state != "done" || !strings.Contains(status, "Found 2 faces in “given.png”") {
			t.Errorf("%s: state %q (%v), status %q", event, state, err, status)
		}
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writePNG(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	return path
}
