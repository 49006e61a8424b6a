//go:build cgo

package main_test

// The page at GET /, driven in headless Chromium against a real serve: it
// must show every face /predict finds, as /predict answers it, and say
// plainly when a photo fails.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	xdraw "golang.org/x/image/draw"

	"github.com/agegender/agegender/internal/testutil"
	"github.com/agegender/agegender/internal/webui/webuitest"
)

func TestPageInBrowser(t *testing.T) {
	base, _, _ := startServe(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "two-faces.png")
	writeTwoFaces(t, photo)
	want := predictFaces(t, base, photo)
	if len(want) != 2 {
		t.Fatalf("/predict found %d faces on the two-face photo, want 2: %+v", len(want), want)
	}
	checkPageHeaders(t, base)

	ctx, consoleErrors := webuitest.Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	state, err := webuitest.Upload(ctx, photo)
	if err != nil || state != "done" {
		status, _ := webuitest.Status(ctx)
		t.Fatalf("two faces: page state %q (%v), status %q", state, err, status)
	}
	checkFacesShown(t, ctx, want)
	checkHighlight(t, ctx)
	screenshots(t, ctx)
	checkErrors(t, ctx, dir)
	if bad := consoleErrors(); len(bad) > 0 {
		t.Errorf("the page's console has errors:\n%s", strings.Join(bad, "\n"))
	}
}

// checkFacesShown holds each row of the table and each box's label to the
// face /predict returned for the same bytes: its gender, its probability
// and its age rounded.
func checkFacesShown(t *testing.T, ctx context.Context, want []faceJSON) {
	t.Helper()
	got, err := webuitest.Faces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("page lists %d faces, /predict found %d: %+v", len(got), len(want), got)
	}
	for i, f := range want {
		age := fmt.Sprint(math.Round(f.Age))
		if f.AgeLow != nil && f.AgeHigh != nil {
			age += fmt.Sprintf(" (%v–%v)", math.Round(*f.AgeLow), math.Round(*f.AgeHigh))
		}
		pct := fmt.Sprintf("%d%%", int(math.Round(f.GenderProbability*100)))
		if !strings.Contains(got[i].Row, f.Gender) || !strings.Contains(got[i].Row, age) || !strings.Contains(got[i].Row, pct) {
			t.Errorf("face %d: row %q, want %s %s and age %s", i+1, got[i].Row, f.Gender, pct, age)
		}
		if !strings.Contains(got[i].Tag, f.Gender+" "+pct) || !strings.Contains(got[i].Tag, "age "+age) {
			t.Errorf("face %d: box label %q, want %q and %q", i+1, got[i].Tag, f.Gender+" "+pct, "age "+age)
		}
		t.Logf("face %d shown as /predict answered (%s, %.3f, age %.2f): row %q, box %q",
			i+1, f.Gender, f.GenderProbability, f.Age, got[i].Row, got[i].Tag)
	}
}

// checkHighlight: a row reached by keyboard (Tab from the first) picks out
// its box, and only it; a row tapped keeps its box picked out after the
// focus moves on, as the screenshots show.
func checkHighlight(t *testing.T, ctx context.Context) {
	t.Helper()
	active := func() string {
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("#boxes .box.active, #face-rows tr.active"), e => e.id)`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(ids, ",")
	}
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#face-0")), chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if got := active(); got != "box-1,face-1" {
		t.Errorf("tabbing to row 2 highlights %q, want box-1 and face-1", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#face-0")), chromedp.Blur(chromedp.CSS("#face-0"))); err != nil {
		t.Fatal(err)
	}
	pinned, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#face-0"), "aria-current"))
	if err != nil {
		t.Fatal(err)
	}
	if got := active(); got != "box-0,face-0" || pinned.Value != "true" {
		t.Errorf("after tapping row 1 and moving on, %q are highlighted and its aria-current is %q, want box-0 and face-0, true", got, pinned.Value)
	}
}

// screenshots writes the page with the two faces at desktop and phone
// width under out/, and checks that nothing is wider than a phone.
func screenshots(t *testing.T, ctx context.Context) {
	t.Helper()
	out := filepath.Join("..", "..", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"page-desktop.png", 1280, 800, nil},
		{"page-phone.png", 400, 860, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch}},
	} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.width, v.height, v.opts...)); err != nil {
			t.Fatal(err)
		}
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if wide > v.width {
			t.Errorf("%s: the page is %d px wide in a %d px viewport", v.name, wide, v.width)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(out, v.name)
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot out/%s: %d x %d viewport, %d KB", v.name, v.width, v.height, len(shot)>>10)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
}

// checkErrors uploads a file that is not an image and a photo with nobody
// on it, and expects the page to say so.
func checkErrors(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	fake := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(fake, []byte("these are notes, not pixels\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty-wall.png")
	writeFlatPNG(t, empty, 800, 600)
	big := filepath.Join(dir, "big.jpg")
	// Over serve's default 20 MB limit, sparse: the page refuses it by its
	// size, before reading it.
	if err := os.WriteFile(big, []byte{0xff, 0xd8}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 21<<20); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fake, "“notes.png” is not an image this server can read"},
		{empty, "No face found in “empty-wall.png”."},
		{big, "“big.jpg” is too large: 21.0 MB, and this server takes photos up to 20 MB."},
	} {
		state, err := webuitest.Upload(ctx, c.path)
		if err != nil {
			t.Fatal(err)
		}
		status, err := webuitest.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if state != "error" || !strings.Contains(status, c.want) {
			t.Errorf("%s: page state %q, status %q; want error %q", filepath.Base(c.path), state, status, c.want)
		}
		t.Logf("%s: page says %q", filepath.Base(c.path), status)
	}
}

// checkPageHeaders holds the real server's page to its headers, and
// reports its size.
func checkPageHeaders(t *testing.T, base string) {
	t.Helper()
	total := 0
	for _, path := range []string{"/", "/page.js", "/page.css"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.HasPrefix(csp, "default-src 'self'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: status %d, CSP %q, nosniff %q", path, resp.StatusCode, csp, resp.Header.Get("X-Content-Type-Options"))
		}
		total += len(body)
	}
	t.Logf("page: %d bytes of HTML, CSS and JS", total)
}

// TestServeNoPage: an API-only server answers / as any unknown path.
func TestServeNoPage(t *testing.T) {
	base, _, _ := startServe(t, "--no-page")
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"error":"no such endpoint /`) {
		t.Errorf("GET / with --no-page: status %d, body %s", resp.StatusCode, body)
	}
}

// faceJSON is what the page shows of a face in /predict's answer.
type faceJSON struct {
	Age float64 `json:"age"`
	// AgeLow and AgeHigh are the age's interval, from models that give one.
	AgeLow            *float64 `json:"age_low"`
	AgeHigh           *float64 `json:"age_high"`
	Gender            string   `json:"gender"`
	GenderProbability float64  `json:"gender_probability"`
}

func predictFaces(t *testing.T, base, path string) []faceJSON {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body, ct := testutil.MultipartFile(t, "file", filepath.Base(path), data)
	resp, err := http.Post(base+"/predict", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Faces []faceJSON `json:"faces"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/predict: status %d, %v", resp.StatusCode, err)
	}
	return got.Faces
}

// writeTwoFaces makes a photo with two people on it from the astronaut's
// portrait: her head and shoulders, and a smaller mirrored copy beside it,
// on a grey wall. YuNet finds both.
func writeTwoFaces(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	head := image.Rect(130, 20, 320, 220)
	mirrored := image.NewNRGBA(image.Rect(0, 0, head.Dx(), head.Dy()))
	for y := range head.Dy() {
		for x := range head.Dx() {
			mirrored.Set(head.Dx()-1-x, y, src.At(head.Min.X+x, head.Min.Y+y))
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, 640, 400))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.NRGBA{200, 205, 210, 255}), image.Point{}, draw.Src)
	xdraw.CatmullRom.Scale(dst, image.Rect(20, 60, 305, 360), src, head, draw.Src, nil)
	xdraw.CatmullRom.Scale(dst, image.Rect(380, 110, 608, 350), mirrored, mirrored.Bounds(), draw.Src, nil)
	writeImage(t, path, dst)
}

// writeFlatPNG is a plain wall, larger than a crop, so that auto detection
// does not take it whole as a face.
func writeFlatPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{120, 130, 140, 255}), image.Point{}, draw.Src)
	writeImage(t, path, img)
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
