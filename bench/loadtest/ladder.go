package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ladderOptions are the flags of the default mode: a fixed number of
// requests at each level of concurrent clients.
type ladderOptions struct {
	bin, image, detect, serveArgs string
	requests                      int
	levels                        []int
}

// ladder starts a server and runs each level on it in turn, printing a line
// per level; it fails when /metrics disagrees with what the clients received.
func ladder(o ladderOptions) error {
	img, name, err := pickImage(o.image)
	if err != nil {
		return err
	}
	srv, err := startServer(o.bin, append([]string{"--detect", o.detect}, strings.Fields(o.serveArgs)...)...)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("loadtest: POST /predict with %s (%d KB), %d requests per level, detect %s, serve args %q, loopback only\n",
		name, len(img)/1024, o.requests, o.detect, o.serveArgs)
	fmt.Printf("%-8s %8s %8s %8s %8s %8s %12s\n", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU ms/req")
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var mismatch []string
	for _, c := range o.levels {
		m, err := runLevel(client, srv, img, name, c, o.requests)
		if err != nil {
			return err
		}
		mismatch = append(mismatch, m...)
	}
	if len(mismatch) > 0 {
		return fmt.Errorf("/metrics disagrees with the answers received: %s", strings.Join(mismatch, "; "))
	}
	return nil
}

// runLevel sends the requests of one level from c clients, prints its line,
// and checks the server's /metrics, scraped before, during and after,
// against the answers received; it returns the disagreements.
func runLevel(client *http.Client, srv *server, img []byte, name string, c, requests int) ([]string, error) {
	base := srv.base
	before, merr := predictCounts(client, base)
	if merr != nil && !errors.Is(merr, errNoMetrics) {
		return nil, merr
	}
	var during chan scrapeLog
	stop := make(chan struct{})
	if merr == nil {
		during = make(chan scrapeLog, 1)
		go func() { during <- scrapeDuring(client, base, total(before.predict), requests, stop) }()
	}
	cpu0, err := srv.cpuSeconds()
	if err != nil {
		return nil, err
	}
	lat, codes, errs, wall := level(client, base, img, name, c, requests)
	close(stop)
	cpu1, err := srv.cpuSeconds()
	if err != nil {
		return nil, err
	}
	fmt.Printf("%-8d %8.1f %8.1f %8.1f %8.1f %8d %12.2f\n", c, float64(len(lat)+errs)/wall.Seconds(),
		pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99), errs, (cpu1-cpu0)*1000/float64(requests))
	if merr != nil {
		fmt.Printf("         metrics: %v, not checked\n", merr)
		return nil, nil
	}
	var mismatch []string
	sl := <-during
	if sl.err != nil {
		mismatch = append(mismatch, fmt.Sprintf("%d clients, during the run: %v", c, sl.err))
	}
	after, desc, ok, err := settledCounts(client, base, before, codes)
	if err != nil {
		return nil, err
	}
	verdict := "match"
	if !ok {
		verdict = "MISMATCH"
		mismatch = append(mismatch, fmt.Sprintf("%d clients: %s", c, desc))
	}
	fmt.Printf("         /metrics, /predict answers by code after the run: %s: %s; %d scrapes during it, %s\n",
		desc, verdict, sl.n, sl.verdict())
	if n := after.batches - before.batches; n > 0 {
		fmt.Printf("         micro-batches: %.0f, %.2f images each on average\n", n, (after.batched-before.batched)/n)
	}
	return mismatch, nil
}

// settledCounts scrapes the server's counts after a level and compares the
// growth of its /predict answers with the codes the clients received. The
// server counts an answer as it finishes it; the client may read it a moment
// before, so a difference gets a few chances to settle.
func settledCounts(client *http.Client, base string, before serverCounts, codes map[int]int) (after serverCounts, desc string, ok bool, err error) {
	for try := 0; try < 5 && !ok; try++ {
		if try > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if after, err = predictCounts(client, base); err != nil {
			return after, "", false, err
		}
		desc, ok = compareCounts(before.predict, after.predict, codes)
	}
	return after, desc, ok, nil
}

// pickImage reads the image to upload: -image, else a WIDER FACE photo of
// the shared data, else its first UTKFace crop.
func pickImage(p string) ([]byte, string, error) {
	if p == "" {
		for _, c := range []string{
			"../shared/data/widerface/images/0--Parade/0_Parade_Parade_0_12.jpg",
		} {
			if _, err := os.Stat(c); err == nil {
				p = c
				break
			}
		}
	}
	if p == "" {
		names, _ := filepath.Glob("../shared/data/utkface/*.jpg")
		if len(names) == 0 {
			return nil, "", errors.New("no image: pass -image")
		}
		p = names[0]
	}
	b, err := os.ReadFile(p)
	return b, filepath.Base(p), err
}

// level sends n requests from c clients and returns the latencies of the
// successful ones, the count of answers by status code, the error count
// (answers other than 200, and requests that got no answer) and the wall
// time.
func level(client *http.Client, base string, img []byte, name string, c, n int) ([]float64, map[int]int, int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	var lat []float64
	codes := map[int]int{}
	errs := 0
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if ctx.Err() != nil {
					mu.Lock()
					errs++
					mu.Unlock()
					continue
				}
				t0 := time.Now()
				code, err := postFile(ctx, client, base, img, name)
				d := time.Since(t0).Seconds() * 1000
				mu.Lock()
				if err == nil {
					codes[code]++
				}
				if err != nil || code != http.StatusOK {
					errs++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, codes, errs, time.Since(start)
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
