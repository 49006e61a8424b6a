package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/testutil/hostile"
)

// A scan bomb (a small progressive JPEG of thousands of scans, each walking
// every block) is refused from its markers; and were one admitted, its
// decode stops when its request times out, so that the one CPU slot is free
// for the crop sent next. Two such uploads once held both slots for 90 s.
func TestScanBombCannotHoldASlot(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	bomb := hostile.ProgressiveJPEG(1000, 1000, 1, 20000)
	crop := pngBytes(t, 64, 64)
	for _, c := range []struct {
		name   string
		limits preprocess.Limits
		code   int
		want   string
	}{
		{"refused", preprocess.Limits{}, http.StatusBadRequest, "20001 scans, over the 500 scan limit"},
		{"admitted", preprocess.Limits{MaxScans: 1 << 30, MaxScanPasses: 1 << 30}, http.StatusServiceUnavailable, "timed out"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxConcurrent: 1, Timeout: time.Second, limits: c.limits})
			rec := postPredict(t, h, bomb)
			msg, _ := decodeBody(t, rec.Body.Bytes())["error"].(string)
			if rec.Code != c.code || !strings.Contains(msg, c.want) {
				t.Fatalf("bomb: %d %q, want %d saying %q", rec.Code, msg, c.code, c.want)
			}
			if rec := postPredict(t, h, crop); rec.Code != http.StatusOK {
				t.Errorf("crop after the bomb: %d %s, want 200", rec.Code, rec.Body)
			}
		})
	}
}

// Uploads that sent part of their body and stalled hold upload memory, not
// the memory budget images are analysed under, and only the tiers of it
// their bodies reached, so a crop sent while they wait is answered. Twelve
// that each sent 17 MB once held the whole budget, and a crop waited 58 s;
// under that accounting the twelve here hold all but half a megabyte of
// this budget, less than the crop's analysis needs. Forty that sent 900 KB
// fill the small tier (up to 1 MB) and wait there, past their first 64 KB.
//
// Of the twelve large ones, eight may hold or wait for the large tier
// (largeUploadsMax) and six fit in it: they hold 36 of its 40 MB when the
// crop is sent. The two that wait for room are answered 429 after
// uploadQueueWait, shortened here: at its default (10 s) the test waited
// until the stall cut-off (5 s) of the first six made room for them, and
// sent the crop beside two stalled uploads instead of six.
func TestStalledUploadsDoNotHoldUpACrop(t *testing.T) {
	for _, c := range []struct {
		name         string
		stalls       int
		sent, readAt int64
		// wait bounds the stalls blocked on the upload budget, which would
		// otherwise hold the test server's Close.
		wait time.Duration
	}{
		{"12 large", 12, 2 << 20, 2 << 20, time.Minute},
		{"40 medium", 40, 900 << 10, cropUpload + 4<<10, 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newServer(t, &fakeEstimator{faces: twoFaces()},
				Config{MaxMemory: 48<<20 + 512<<10, UploadTimeout: c.wait, Timeout: 2 * time.Second,
					uploadQueueWait: 100 * time.Millisecond})
			srv := stallServer(h, c.stalls, c.readAt)
			defer srv.Close()
			head := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n\r\n"
			start := append([]byte(head), make([]byte, c.sent-int64(len(head)))...)
			for range c.stalls {
				conn, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: test\r\nX-Stall: 1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", 3*c.sent)
				go conn.Write(start)
			}
			for range c.stalls {
				<-srv.reached
			}
			body, ct := multipartBody(t, "file", pngBytes(t, 64, 64))
			resp, err := http.Post(srv.URL+"/predict", ct, body)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if msg, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
				t.Errorf("crop beside %d stalled uploads: %d %s, want 200", c.stalls, resp.StatusCode, msg)
			}
		})
	}
}

// stalledServer serves h; a request with an X-Stall header signals on
// reached once h has read readAt bytes of its body, or has answered it.
type stalledServer struct {
	*httptest.Server
	reached chan struct{}
}

func stallServer(h http.Handler, stalls int, readAt int64) stalledServer {
	reached := make(chan struct{}, stalls)
	return stalledServer{httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Stall") == "" {
			h.ServeHTTP(w, r)
			return
		}
		var once sync.Once
		signal := func() { once.Do(func() { reached <- struct{}{} }) }
		r.Body = &countingBody{ReadCloser: r.Body, at: readAt, reached: signal}
		h.ServeHTTP(w, r)
		signal()
	})), reached}
}

// countingBody calls reached once at bytes have been read through it.
type countingBody struct {
	io.ReadCloser
	n, at   int64
	reached func()
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if c.n += int64(n); c.n >= c.at {
		c.reached()
	}
	return n, err
}
