// Command page measures serve's page in headless Chromium: its size, its
// first paint, and the time from a photo given to the page to its faces
// boxed on screen. Each run opens the page in a fresh browser context (an
// empty cache), so every first paint is a first visit.
//
//	go run ./bench/page -bin bin/agegender [-photo testdata/astronaut.png] [-runs 5]
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/agegender/agegender/internal/webui/webuitest"
)

func main() {
	bin := flag.String("bin", "bin/agegender", "agegender binary to serve the page")
	photo := flag.String("photo", "testdata/astronaut.png", "photo given to the page")
	runs := flag.Int("runs", 5, "page loads and photos, each in a fresh browser context")
	flag.Parse()
	if err := run(*bin, *photo, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "page:", err)
		os.Exit(1)
	}
}

// timing is one run's figures, in milliseconds.
type timing struct {
	FirstPaint, FirstContentfulPaint, DropToBoxes, Predict float64
}

func run(bin, photo string, runs int) error {
	browserPath, err := chromium()
	if err != nil {
		return err
	}
	if photo, err = filepath.Abs(photo); err != nil {
		return err
	}
	base, stop, err := serve(bin)
	if err != nil {
		return err
	}
	defer stop()
	if err := printSize(base); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, webuitest.AllocatorOptions(browserPath)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	var all []timing
	fmt.Printf("%-4s %12s %12s %14s %12s\n", "run", "first paint", "first cp", "drop->boxes", "/predict")
	for i := range runs {
		tm, err := once(browser, base, photo)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		all = append(all, tm)
		fmt.Printf("%-4d %9.0f ms %9.0f ms %11.0f ms %9.0f ms\n", i+1, tm.FirstPaint, tm.FirstContentfulPaint, tm.DropToBoxes, tm.Predict)
	}
	med := func(f func(timing) float64) float64 {
		v := make([]float64, len(all))
		for i, tm := range all {
			v[i] = f(tm)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Printf("%-4s %9.0f ms %9.0f ms %11.0f ms %9.0f ms\n", "med",
		med(func(t timing) float64 { return t.FirstPaint }), med(func(t timing) float64 { return t.FirstContentfulPaint }),
		med(func(t timing) float64 { return t.DropToBoxes }), med(func(t timing) float64 { return t.Predict }))
	return nil
}

// once opens the page in a fresh browser context, gives it the photo and
// reads the page's own marks: first paint from the browser, drop to boxes
// from page.js's "agegender:picked" (the file handed to the page) to
// "agegender:boxes" (the frame after the boxes were added).
func once(browser context.Context, base, photo string) (timing, error) {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	var tm timing
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		return tm, err
	}
	// The entries come once the frame is painted, which may be after load;
	// their times count from the navigation, not from when they are read.
	paint, err := chromedp.Run(ctx, chromedp.Poll[map[string]float64](
		`performance.getEntriesByType("paint").length >= 2 &&
		 Object.fromEntries(performance.getEntriesByType("paint").map(e => [e.name, e.startTime]))`,
		chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		return tm, fmt.Errorf("paint timing: %w", err)
	}
	tm.FirstPaint, tm.FirstContentfulPaint = paint["first-paint"], paint["first-contentful-paint"]
	state, err := webuitest.Upload(ctx, photo)
	if err != nil || state != "done" {
		status, _ := webuitest.Status(ctx)
		return tm, fmt.Errorf("page state %q (%v): %s", state, err, status)
	}
	tm.DropToBoxes, err = chromedp.Run(ctx, chromedp.Poll[float64](
		`performance.getEntriesByName("agegender:boxes").length > 0 &&
		 performance.measure("drop-to-boxes", "agegender:picked", "agegender:boxes").duration`))
	if err != nil {
		return tm, fmt.Errorf("drop-to-boxes marks: %w", err)
	}
	tm.Predict, err = chromedp.Run(ctx, chromedp.Evaluate[float64](
		`performance.getEntriesByType("resource").filter(e => e.name.endsWith("/predict")).pop().duration`))
	if err != nil {
		return tm, fmt.Errorf("predict timing: %w", err)
	}
	return tm, nil
}

// printSize prints the bytes the page's three files take as served and
// gzipped.
func printSize(base string) error {
	var raw, zipped int
	for _, path := range []string{"/", "/page.js", "/page.css"} {
		resp, err := http.Get(base + path)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d, %v", path, resp.StatusCode, err)
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		fmt.Printf("%-10s %6d bytes, %5d gzipped\n", path, len(body), z.Len())
		raw, zipped = raw+len(body), zipped+z.Len()
	}
	fmt.Printf("%-10s %6d bytes, %5d gzipped (HTML+JS+CSS; served uncompressed)\n", "page", raw, zipped)
	return nil
}

func chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("chromium not found: apt-get install chromium")
}

// serve runs bin serve on a free loopback port and waits for /health.
func serve(bin string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--port", fmt.Sprint(port))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			return base, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("server did not come up: %s", stderr.String())
}
