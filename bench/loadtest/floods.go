package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// floodOptions configure issue 26's cases: concurrent large uploads, a
// header flood and an idle-connection flood, each on a fresh server.
type floodOptions struct {
	bin     string
	image   string
	uploads []int
	size    int
	headers int
	idle    int
}

// floods prints, per case, the answers and their time, the server's peak
// RSS and how long a fresh client's GET /health took.
func floods(o floodOptions) error {
	p := o.image
	if p == "" {
		p = goodCropPath
	}
	good, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("%w: read the good crop: %v", errSkip, err)
	}
	// The crop padded to the upload size: the decoder stops at its end.
	big := append(append([]byte{}, good...), make([]byte, o.size-len(good))...)
	for _, n := range o.uploads {
		if err := onServer(fmt.Sprintf("%d uploads of %d MB at once", n, o.size>>20), o.bin, func(base string) string {
			return concurrentUploads(base, big, n)
		}); err != nil {
			return err
		}
	}
	if err := onServer(fmt.Sprintf("%d connections sending 1 MB of headers", o.headers), o.bin, func(base string) string {
		return headerFlood(base, o.headers)
	}); err != nil {
		return err
	}
	return onServer(fmt.Sprintf("%d idle keep-alive connections", o.idle), o.bin, func(base string) string {
		return idleFlood(base, o.idle)
	})
}

// onServer runs one case on a fresh server and prints its line.
func onServer(title, bin string, run func(base string) string) error {
	srv, err := startServer(bin)
	if err != nil {
		return err
	}
	defer srv.stop()
	before, _ := srv.peakRSS()
	line := run(srv.base)
	t0 := time.Now()
	code := health(srv.base)
	fresh := time.Since(t0)
	rss, err := srv.peakRSS()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", title, err, srv.stderr.String())
	}
	fmt.Printf("%s: %s; then a fresh GET /health: %d in %.0f ms; serve's peak RSS %.0f MB (idle %.0f MB)\n",
		title, line, code, fresh.Seconds()*1000, rss, before)
	return nil
}

// health is the status of a GET /health on a new connection, 0 on failure.
func health(base string) int {
	c := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(base + "/health")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// concurrentUploads sends n uploads of data at once and words their
// answers: the status codes and the slowest answer.
func concurrentUploads(base string, data []byte, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 3 * time.Minute}
	codes := make([]int, n)
	took := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			t0 := time.Now()
			codes[i], _ = postFile(ctx, client, base, data, "large.jpg")
			took[i] = time.Since(t0)
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	var words []string
	for c, k := range count {
		words = append(words, fmt.Sprintf("%d x%d", c, k))
	}
	sort.Strings(words)
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	return fmt.Sprintf("answers %s (0: no answer), slowest %.1f s", strings.Join(words, ", "), took[n-1].Seconds())
}

// headerFlood opens n connections that each send up to 1 MB of headers
// and never finish them, then waits for the server to take them in.
func headerFlood(base string, n int) string {
	addr := strings.TrimPrefix(base, "http://")
	pad := strings.Repeat("x", 1000)
	var conns []net.Conn
	var wg sync.WaitGroup
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conns = append(conns, c)
		wg.Go(func() {
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: flood\r\n")
			for i := 0; i < 1000; i++ {
				if _, err := fmt.Fprintf(c, "X-Pad-%d: %s\r\n", i, pad); err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	defer closeAll(conns)
	return fmt.Sprintf("%d opened", len(conns))
}

// idleFlood opens n connections that each get one answer and stay idle.
func idleFlood(base string, n int) string {
	addr := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	ok := 0
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: idle\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok++
		}
	}
	defer closeAll(conns)
	return fmt.Sprintf("%d opened, %d answered", len(conns), ok)
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
