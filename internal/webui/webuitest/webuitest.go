// Package webuitest drives the page of package webui in headless Chromium,
// for the tests that hold it to what /predict answers: the browser, the
// upload through the page's file input, and what the page then says.
package webuitest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Timeout bounds everything the browser does in one test; the waits inside
// it are for DOM conditions, never for a time.
const Timeout = 3 * time.Minute

// Chromium returns the browser to drive, or skips the test without one.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium not found: apt-get install chromium")
	return ""
}

// AllocatorOptions start execPath headless, as a CI container allows.
func AllocatorOptions(execPath string) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath), chromedp.DisableGPU, chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root, as CI does.
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// Browser starts headless Chromium (skipping the test without one) and
// returns the context of its first tab, stopped when the test ends, and a
// func that returns the console messages that mean the page is broken so
// far: an uncaught exception, a blocked resource (a CSP violation), an
// error the page logged.
func Browser(t testing.TB) (context.Context, func() []string) {
	t.Helper()
	execPath := Chromium(t)
	bounded, cancelTime := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(bounded, AllocatorOptions(execPath)...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelTime() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A headless tab never has the window's focus, so focus events would
	// not fire; the keyboard checks need them.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	var mu sync.Mutex
	var bad []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// An error answer to an upload is logged by the network as a
			// failed load; the tests upload bad files on purpose.
			if m.IsException() || m.Source == "security" || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				mu.Lock()
				bad = append(bad, m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bad...)
	}
}

// Upload gives the page's file input the file at path and waits until the
// page has answered; it returns the page's state then, "done" or "error".
func Upload(ctx context.Context, path string) (string, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`delete document.getElementById("app").dataset.state`)); err != nil {
		return "", fmt.Errorf("reset the page's state: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path})); err != nil {
		return "", fmt.Errorf("set the file input: %w", err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(s => s !== "busy" && s)(document.getElementById("app").dataset.state)`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
	if err != nil {
		return "", fmt.Errorf("wait for the page to answer: %w", err)
	}
	return state, nil
}

// Shown is what the page says about one face: its row in the table and
// the label on its box, as text.
type Shown struct {
	Row string `json:"row"`
	Tag string `json:"tag"`
}

// Faces returns what the page shows of each face, in the table's order.
func Faces(ctx context.Context) ([]Shown, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]Shown](`Array.from(document.querySelectorAll("#face-rows tr"),
		(r, i) => ({row: r.innerText, tag: (document.querySelector("#box-" + i + " .tag") || {}).innerText || ""}))`))
}

// Status returns the page's status line: what it is doing, found, or what
// went wrong.
func Status(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
}
