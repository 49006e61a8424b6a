// Command loadtest starts `agegender serve` on a loopback port and sends it a
// fixed number of POST /predict requests at 1, 4 and 16 concurrent clients,
// printing latency percentiles, requests/s and errors. Traffic never leaves
// 127.0.0.1, and every loop is bounded in count and time.
//
//	go run ./bench/loadtest -bin bin/agegender [-requests 200] [-image photo.jpg]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
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
	flag.Parse()

	img, name, err := pickImage(*imagePath)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := exec.Command(*bin, "serve", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--detect", *detect)
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(base, 30*time.Second); err != nil {
		return fmt.Errorf("%w: %s", err, srvErr.String())
	}
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

func waitHealthy(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server did not become healthy")
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
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return err
	}
	fw.Write(img)
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/predict", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
