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
//
// With -floods it runs issue 26's cases, each on a fresh server with the
// default flags: 2, 8 and 16 uploads of 19 MB at once; 1,500 connections
// that send 1 MB of headers and never finish; 19,000 idle keep-alive
// connections. It prints the answers, a fresh client's GET /health time
// and the server's peak RSS:
//
//	go run ./bench/loadtest -floods [-uploads 2,8,16] [-upload-mb 19] [-header-conns 1500] [-idle-conns 19000]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
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
	floodRun := flag.Bool("floods", false, "run issue 26's upload, header and idle-connection floods")
	uploads := flag.String("uploads", "2,8,16", "with -floods: large uploads sent at once, per case")
	uploadMB := flag.Int("upload-mb", 19, "with -floods: the size of each large upload in MB")
	headerConns := flag.Int("header-conns", 1500, "with -floods: connections sending 1 MB of headers")
	idleConns := flag.Int("idle-conns", 19000, "with -floods: idle keep-alive connections")
	flag.Parse()

	if *floodRun {
		counts, err := parseLevels(*uploads)
		if err != nil {
			return err
		}
		err = floods(floodOptions{bin: *bin, image: *imagePath, uploads: counts, size: *uploadMB << 20,
			headers: *headerConns, idle: *idleConns})
		if errors.Is(err, errSkip) {
			fmt.Println("loadtest:", err)
			return nil
		}
		return err
	}

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

	levels, err := parseLevels(*levelsFlag)
	if err != nil {
		return err
	}
	return ladder(ladderOptions{bin: *bin, image: *imagePath, detect: *detect, serveArgs: *serveArgs,
		requests: *requests, levels: levels})
}

// parseLevels reads -levels: client counts, comma-separated.
func parseLevels(flagValue string) ([]int, error) {
	var levels []int
	for _, f := range strings.Split(flagValue, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 1024 {
			return nil, fmt.Errorf("-levels %q: want client counts 1..1024, comma-separated", flagValue)
		}
		levels = append(levels, c)
	}
	return levels, nil
}
