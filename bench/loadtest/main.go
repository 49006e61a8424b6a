// Command loadtest starts `agegender serve` on a loopback port and sends it a
// fixed number of POST /predict requests at 1, 4 and 16 concurrent clients,
// printing latency percentiles, requests/s and errors. Traffic never leaves
// 127.0.0.1, and every loop is bounded in count and time. Around each level
// it scrapes the server's /metrics and checks that its count of /predict
// answers, code by code, grew by exactly what the clients received (exit 1
// when not; skipped for a server without /metrics).
//
//	go run ./bench/loadtest -bin bin/agegender [-requests 200] [-image photo.jpg] [-levels 1,4,16] [-serve-args '--max-batch 8']
//
// With -mixed it runs issue 12's hostile load instead, three runs of 60 s on
// a fresh server each: 16 clients sending a good face crop back to back; the
// same with a quarter of the uploads hostile (bombs, header-only huge images,
// a strip, a truncated file, a slow body, a declared 10 GB body); and the 16
// good clients beside 4 more sending only hostile uploads. It prints per
// class the status codes, the good crop's latency, the server's peak RSS
// (VmHWM), and whether the goals hold against the first run (exit 1 when
// not):
//
//	go run ./bench/loadtest -mixed [-clients 16] [-duration 60s] [-hostile 0.25]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin/agegender", "agegender binary")
	requests := flag.Int("requests", 200, "requests per concurrency level")
	imagePath := flag.String("image", "", "image to upload (default: a WIDER FACE photo from ../shared/data, else a UTKFace crop)")
	detect := flag.String("detect", "auto", "detection mode of the server")
	mixedRun := flag.Bool("mixed", false, "run the hostile mixed load (good crop: -image, default a UTKFace crop from ../shared)")
	clients := flag.Int("clients", 16, "with -mixed: concurrent clients")
	duration := flag.Duration("duration", time.Minute, "with -mixed: length of each run")
	hostileShare := flag.Float64("hostile", 0.25, "with -mixed: share of hostile uploads in run 2, and of extra hostile clients in run 3, 0..1")
	uploadTimeout := flag.Duration("upload-timeout", 5*time.Second, "with -mixed: the server's --upload-timeout, which slow bodies wait out")
	levelsFlag := flag.String("levels", "1,4,16", "concurrent clients of each level, comma-separated")
	serveArgs := flag.String("serve-args", "", "extra arguments for agegender serve, space-separated")
	flag.Parse()

	if *mixedRun {
		if *clients < 1 || *duration <= 0 || *hostileShare < 0 || *hostileShare > 1 || *uploadTimeout <= 0 {
			return errors.New("-mixed needs -clients >= 1, a positive -duration and -upload-timeout, and -hostile in 0..1")
		}
		err := mixed(mixedOptions{bin: *bin, image: *imagePath, clients: *clients, duration: *duration,
			hostile: *hostileShare, uploadTimeout: *uploadTimeout})
		if errors.Is(err, errSkip) {
			fmt.Println("loadtest:", err)
			return nil
		}
		return err
	}

	var levels []int
	for _, f := range strings.Split(*levelsFlag, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 1024 {
			return fmt.Errorf("-levels %q: want client counts 1..1024, comma-separated", *levelsFlag)
		}
		levels = append(levels, c)
	}
	img, name, err := pickImage(*imagePath)
	if err != nil {
		return err
	}
	srv, err := startServer(*bin, append([]string{"--detect", *detect}, strings.Fields(*serveArgs)...)...)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base
	fmt.Printf("loadtest: POST /predict with %s (%d KB), %d requests per level, detect %s, serve args %q, loopback only\n",
		name, len(img)/1024, *requests, *detect, *serveArgs)
	fmt.Printf("%-8s %8s %8s %8s %8s %8s %12s\n", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server CPU ms/req")
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var mismatch []string
	for _, c := range levels {
		before, merr := predictCounts(client, base)
		if merr != nil && !errors.Is(merr, errNoMetrics) {
			return merr
		}
		var during chan scrapeLog
		stop := make(chan struct{})
		if merr == nil {
			during = make(chan scrapeLog, 1)
			go func() { during <- scrapeDuring(client, base, total(before.predict), *requests, stop) }()
		}
		cpu0, err := srv.cpuSeconds()
		if err != nil {
			return err
		}
		lat, codes, errs, wall := level(client, base, img, name, c, *requests)
		close(stop)
		cpu1, err := srv.cpuSeconds()
		if err != nil {
			return err
		}
		fmt.Printf("%-8d %8.1f %8.1f %8.1f %8.1f %8d %12.2f\n", c, float64(len(lat)+errs)/wall.Seconds(),
			pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99), errs, (cpu1-cpu0)*1000/float64(*requests))
		if merr != nil {
			fmt.Printf("         metrics: %v, not checked\n", merr)
			continue
		}
		sl := <-during
		if sl.err != nil {
			mismatch = append(mismatch, fmt.Sprintf("%d clients, during the run: %v", c, sl.err))
		}
		// The server counts an answer as it finishes it; the client may read
		// it a moment before, so a difference gets a few chances to settle.
		var desc string
		var after serverCounts
		ok := false
		for try := 0; try < 5 && !ok; try++ {
			if try > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			after, err = predictCounts(client, base)
			if err != nil {
				return err
			}
			desc, ok = compareCounts(before.predict, after.predict, codes)
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
	}
	if len(mismatch) > 0 {
		return fmt.Errorf("/metrics disagrees with the answers received: %s", strings.Join(mismatch, "; "))
	}
	return nil
}

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
