package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigUpload is a valid PNG padded to size bytes (the decoder stops at IEND)
// as a multipart form, and its content type.
func bigUpload(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	img := pngBytes(t, 32, 32)
	form, ct := multipartBody(t, "file", append(img, make([]byte, size-len(img))...))
	data, err := io.ReadAll(form)
	if err != nil {
		t.Fatal(err)
	}
	return data, ct
}

// uploadServer has a large upload tier of two 4 MB uploads: MaxMemory 64 MB
// leaves uploads 16 MB, of which the crop and small tiers take 8 MB each and
// the large one is raised to twice MaxUpload.
func uploadServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	cfg.MaxUpload, cfg.MaxMemory = 4<<20, 64<<20
	s := newServer(t, &fakeEstimator{faces: twoFaces()}, cfg)
	return s, httptest.NewServer(s)
}

// answer is one reply: its status, body and Retry-After.
type answer struct {
	code        int
	body, retry string
}

// sendWhole writes data as the body of a POST /predict on a new connection
// and reads the reply.
func sendWhole(t *testing.T, srv *httptest.Server, ct string, data []byte) answer {
	return send(t, srv, ct, data, false)
}

// send is sendWhole; with first, it writes the whole request before it
// reads a byte of the reply, as a simple client does.
func send(t *testing.T, srv *httptest.Server, ct string, data []byte, first bool) answer {
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(time.Minute)) // a guard against a hang
	write := func() error {
		io.WriteString(conn, "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: "+ct+"\r\nContent-Length: "+strconv.Itoa(len(data))+"\r\n\r\n")
		_, err := conn.Write(data)
		return err
	}
	if !first {
		go write()
	} else if err := write(); err != nil {
		t.Errorf("send the request: %v", err)
		return answer{}
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a guard against a hang
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Errorf("no reply: %v", err)
		return answer{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(raw), resp.Header.Get("Retry-After")}
}

// Uploads that together need more than the large tier are each admitted
// whole or wait, so every one is answered: once each held part of the tier
// and waited for more, and three large uploads sent at once all got 408 at
// the upload timeout.
func TestConcurrentLargeUploadsAllAnswered(t *testing.T) {
	for _, n := range []int{2, 3, 8} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			_, srv := uploadServer(t, Config{UploadTimeout: 5 * time.Second, uploadQueueWait: time.Minute})
			defer srv.Close()
			data, ct := bigUpload(t, 4<<20-1024)
			answers := make([]answer, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { answers[i] = sendWhole(t, srv, ct, data) })
			}
			wg.Wait()
			for i, a := range answers {
				if a.code != http.StatusOK {
					t.Errorf("upload %d of %d: %d %s, want 200", i, n, a.code, a.body)
				}
			}
		})
	}
}

// stallLarge starts n uploads that declare almost 4 MB, send 1 MB and stop.
func stallLarge(t *testing.T, srv *httptest.Server, n int) []net.Conn {
	t.Helper()
	data, ct := bigUpload(t, 4<<20-1024)
	var conns []net.Conn
	for range n {
		conns = append(conns, rawPost(t, srv, ct, int64(len(data)), data[:1<<20]))
	}
	return conns
}

// Stalled uploads give back the memory they reserved: an honest upload sent
// while two stalled ones hold the whole large tier is answered once they are
// cut off, and they get 408 saying they stalled. Before, it waited until the
// upload timeout and got 408 itself.
func TestStalledUploadsGiveWayToAnHonestOne(t *testing.T) {
	s, srv := uploadServer(t, Config{UploadTimeout: 20 * time.Second, uploadStall: 300 * time.Millisecond, uploadQueueWait: 15 * time.Second})
	defer srv.Close()
	stalled := stallLarge(t, srv, 2)
	waitLarge(t, s, 2)
	data, ct := bigUpload(t, 3<<20)
	if a := sendWhole(t, srv, ct, data); a.code != http.StatusOK {
		t.Fatalf("honest upload beside two stalled: %d %s, want 200", a.code, a.body)
	}
	for i, c := range stalled {
		if code, body := readReply(t, c, 30*time.Second); code != http.StatusRequestTimeout || !strings.Contains(body, "upload stalled: less than 64 KB of the body arrived in 300ms") {
			t.Errorf("stalled upload %d: %d %s, want 408 saying it stalled", i, code, body)
		}
	}
}

// An upload that finds no memory within its queue wait is answered 429 with
// Retry-After, not held until the upload timeout; a client that writes its
// whole body before it reads gets the answer, where it once had its write
// reset (the body is larger than loopback's socket buffers).
func TestUploadQueueWaitAnswered429(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	s := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxUpload: 32 << 20, MaxMemory: 512 << 20,
		UploadTimeout: 20 * time.Second, uploadStall: time.Minute, uploadQueueWait: 200 * time.Millisecond})
	srv := httptest.NewServer(s)
	defer srv.Close()
	held, hct := bigUpload(t, 31<<20)
	for range 2 {
		c := rawPost(t, srv, hct, int64(len(held)), held[:1<<20])
		defer c.Close()
	}
	waitLarge(t, s, 2)
	data, ct := bigUpload(t, 30<<20)
	a := send(t, srv, ct, data, true)
	if a.code != http.StatusTooManyRequests || a.retry == "" || !strings.Contains(a.body, "no memory free to receive the upload (30.0 MB) within 200ms; retry later") {
		t.Fatalf("upload past the queue wait: %d %q %s, want 429 with Retry-After", a.code, a.retry, a.body)
	}
}

// A client that sends its whole form, with a field after the file, before
// it reads the answer gets the answer, not a reset connection.
func TestFieldAfterFileAnswered(t *testing.T) {
	s := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxUpload: 20 << 20})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var body bytes.Buffer
	body.WriteString("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n")
	body.Write(pngBytes(t, 32, 32))
	body.WriteString("\r\n--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n")
	body.Write(bytes.Repeat([]byte("n"), 16<<20))
	body.WriteString("\r\n--b--\r\n")
	if a := send(t, srv, "multipart/form-data; boundary=b", body.Bytes(), true); a.code != http.StatusOK {
		t.Fatalf("form with a field after the file: %d %s, want 200", a.code, a.body)
	}
}

// waitLarge waits until n large uploads hold or wait for memory.
func waitLarge(t *testing.T, s *Server, n int64) {
	t.Helper()
	for give := time.Now().Add(30 * time.Second); s.uploads.largeIn.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(give) {
			t.Fatalf("%d large uploads in progress after 30 s, want %d", s.uploads.largeIn.Load(), n)
		}
	}
}
