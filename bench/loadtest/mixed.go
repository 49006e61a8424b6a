package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// mixedOptions configure the hostile-load mode.
type mixedOptions struct {
	bin           string
	image         string
	clients       int
	duration      time.Duration
	hostile       float64
	uploadTimeout time.Duration
}

// goodCropPath is the default good upload: a UTKFace crop with one face,
// read at run time from the sample data beside the repository.
const goodCropPath = "../shared/data/utkface/15_1_0_20170109214024612.jpg.chip.jpg"

// errSkip means the data the bench needs is not on this machine.
var errSkip = errors.New("SKIP")

// Goals for the hostile run: issue 12's p99 ratio, issue 20's peak RSS.
const (
	maxPeakRSSMB = 450
	maxP99Ratio  = 2.0
)

// mixed runs the load three times, each on a fresh server: good crops
// alone; the same clients with o.hostile of their uploads hostile (the
// issue's test, though clients caught in slow bodies send fewer good crops);
// and the same good clients unchanged beside o.hostile as many more clients
// sending only hostile uploads (the fair comparison of the good crop's
// latency). It checks the goals against the first.
func mixed(o mixedOptions) error {
	p := o.image
	if p == "" {
		p = goodCropPath
	}
	good, err := os.ReadFile(p)
	if err != nil {
		if o.image == "" && errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: no good crop at %s (the UTKFace sample beside the repository); pass -image", errSkip, p)
		}
		return fmt.Errorf("read the good crop: %w", err)
	}
	name := filepath.Base(p)
	classes := hostileClasses(good, name, o.uploadTimeout)
	hostileClients := int(math.Round(float64(o.clients) * o.hostile))
	fmt.Printf("loadtest -mixed: %s per run, good upload %s (%d KB), server --upload-timeout %s, loopback only\n",
		o.duration, name, len(good)/1024, o.uploadTimeout)
	runs := []struct {
		title          string
		share          float64
		hostileClients int
	}{
		{fmt.Sprintf("%d clients, good crops only", o.clients), 0, 0},
		{fmt.Sprintf("%d clients, %.0f%% of uploads hostile", o.clients, 100*o.hostile), o.hostile, 0},
		{fmt.Sprintf("%d clients of good crops beside %d sending hostile uploads", o.clients, hostileClients), 0, hostileClients},
	}
	results := make([]*tally, len(runs))
	for i, r := range runs {
		srv, err := startServer(o.bin, "--upload-timeout", o.uploadTimeout.String())
		if err != nil {
			return err
		}
		t := load(srv.base, good, name, classes, r.share, r.hostileClients, o)
		t.rss, err = srv.peakRSS() // fails when the server died
		srv.stop()
		if err != nil {
			return fmt.Errorf("after the run %q: %w: %s", r.title, err, srv.stderr.String())
		}
		results[i] = t
		t.print(r.title)
	}
	return verdict(results[0], results[1:])
}

// tally is what one run saw, per class of upload.
type tally struct {
	mu      sync.Mutex
	codes   map[string]map[int]int
	errs    map[string]int
	goodLat []float64
	wall    time.Duration
	rss     float64
}

func (t *tally) add(class string, code int, err error, ms float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.errs[class]++
		return
	}
	if t.codes[class] == nil {
		t.codes[class] = map[int]int{}
	}
	t.codes[class][code]++
	if class == "good" && code == http.StatusOK {
		t.goodLat = append(t.goodLat, ms)
	}
}

// load runs o.clients clients that send the good crop back to back, except
// that a share of their uploads (share) is hostile, the classes taking turns;
// and hostileClients more that send only hostile uploads. It stops sending
// once o.duration has passed.
func load(base string, good []byte, name string, classes []class, share float64, hostileClients int, o mixedOptions) *tally {
	t := &tally{codes: map[string]map[int]int{}, errs: map[string]int{}}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.clients + hostileClients}}
	// The hard bound lets the last slow bodies reach their deadline.
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*o.uploadTimeout+time.Minute)
	defer cancel()
	end := time.Now().Add(o.duration)
	var seq, turn atomic.Int64
	sendHostile := func() {
		c := classes[int(turn.Add(1)-1)%len(classes)]
		code, err := c.send(ctx, client, base)
		t.add(c.name, code, err, 0)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for range hostileClients {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				sendHostile()
			}
		})
	}
	for range o.clients {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				// Upload k is hostile when k*share passes a whole number.
				if k := float64(seq.Add(1)); int(k*share) > int((k-1)*share) {
					sendHostile()
					continue
				}
				t0 := time.Now()
				code, err := postFile(ctx, client, base, good, name)
				t.add("good", code, err, time.Since(t0).Seconds()*1000)
			}
		})
	}
	wg.Wait()
	t.wall = time.Since(start)
	return t
}

// fiveXX counts the answers of 500 and over, in every class.
func (t *tally) fiveXX() int {
	n := 0
	for _, codes := range t.codes {
		for code, k := range codes {
			if code >= 500 {
				n += k
			}
		}
	}
	return n
}

func (t *tally) print(title string) {
	classes := make([]string, 0, len(t.codes))
	for c := range t.codes {
		classes = append(classes, c)
	}
	for c := range t.errs {
		if t.codes[c] == nil {
			classes = append(classes, c)
		}
	}
	sort.Strings(classes)
	total, hostile := 0, 0
	for c, codes := range t.codes {
		for _, k := range codes {
			total += k
			if c != "good" {
				hostile += k
			}
		}
	}
	fmt.Printf("\n%s: %.0f s, %d answers (%.0f%% to hostile uploads), peak RSS %.0f MB, %d answers of 5xx\n",
		title, t.wall.Seconds(), total, 100*float64(hostile)/float64(max(1, total)), t.rss, t.fiveXX())
	fmt.Printf("  %-20s %8s  %-28s %s\n", "class", "sent", "status codes", "no answer")
	for _, c := range classes {
		var codes []string
		sent := t.errs[c]
		for code, k := range t.codes[c] {
			codes = append(codes, fmt.Sprintf("%d x%d", code, k))
			sent += k
		}
		sort.Strings(codes)
		fmt.Printf("  %-20s %8d  %-28s %d\n", c, sent, strings.Join(codes, ", "), t.errs[c])
	}
	fmt.Printf("  good crop: %.1f answers/s, p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
		float64(len(t.goodLat))/t.wall.Seconds(), pct(t.goodLat, 0.50), pct(t.goodLat, 0.95), pct(t.goodLat, 0.99))
}

// verdict checks the hostile runs against issue 12's goals and the baseline.
func verdict(base *tally, hostile []*tally) error {
	var failed []string
	check := func(ok bool, what string) {
		mark := "ok"
		if !ok {
			mark = "FAILED"
			failed = append(failed, what)
		}
		fmt.Printf("  %-52s %s\n", what, mark)
	}
	fmt.Printf("\ngoals:\n")
	check(base.fiveXX() == 0, "run 1: no 5xx")
	for i, h := range hostile {
		n := i + 2
		ratio := pct(h.goodLat, 0.99) / pct(base.goodLat, 0.99)
		check(h.fiveXX() == 0, fmt.Sprintf("run %d: no 5xx", n))
		check(h.errs["good"] == 0 && len(h.codes["good"]) == 1 && h.codes["good"][http.StatusOK] > 0,
			fmt.Sprintf("run %d: every good crop answered 200", n))
		check(h.rss <= maxPeakRSSMB, fmt.Sprintf("run %d: peak RSS %.0f MB <= %d MB", n, h.rss, maxPeakRSSMB))
		check(ratio <= maxP99Ratio, fmt.Sprintf("run %d: good-crop p99 %.2fx run 1's <= %.0fx", n, ratio, maxP99Ratio))
	}
	if len(failed) > 0 {
		return fmt.Errorf("goals not met: %s", strings.Join(failed, "; "))
	}
	return nil
}
