// Command loadtest starts `agegender serve` on a loopback port and sends it a
// fixed number of POST /predict requests at 1, 4 and 16 concurrent clients,
// printing latency percentiles, requests/s and errors. Traffic never leaves
// 127.0.0.1, and every loop is bounded in count and time.
//
//	go run ./bench/loadtest -bin bin/agegender [-requests 200] [-image photo.jpg]
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

	img, name, err := pickImage(*imagePath)
	if err != nil {
		return err
	}
	srv, err := startServer(*bin, "--detect", *detect)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.base
	fmt.Printf("loadtest: POST /predict with %s (%d KB), %d requests per level, detect %s, loopback only\n",
		name, len(img)/1024, *requests, *detect)
	fmt.Printf("%-8s %8s %8s %8s %8s %8s\n", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for _, c := range []int{1, 4, 16} {
		lat, errs, wall := level(client, base, img, name, c, *requests)
		fmt.Printf("%-8d %8.1f %8.1f %8.1f %8.1f %8d\n", c, float64(len(lat)+errs)/wall.Seconds(),
			pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99), errs)
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
// successful ones, the error count and the wall time.
func level(client *http.Client, base string, img []byte, name string, c, n int) ([]float64, int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	var lat []float64
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
				err := post(ctx, client, base, img, name)
				d := time.Since(t0).Seconds() * 1000
				mu.Lock()
				if err != nil {
					errs++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, errs, time.Since(start)
}

func post(ctx context.Context, client *http.Client, base string, img []byte, name string) error {
	code, err := postFile(ctx, client, base, img, name)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status %d", code)
	}
	return err
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
