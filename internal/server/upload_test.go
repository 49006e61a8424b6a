package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawPost opens a connection to srv and writes the headers of a POST
// /predict with the given Content-Length and the start of its body, as a
// client would that is slow or lies about the size; the rest is the caller's.
func rawPost(t *testing.T, srv *httptest.Server, contentType string, length int64, start []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, length)
	if _, err := conn.Write(start); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readReply reads the response on conn within limit, a guard against a
// hang.
func readReply(t *testing.T, conn net.Conn, limit time.Duration) (int, string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response within %s: %v", limit, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// A declared Content-Length over the limit is answered at once, without
// waiting for a body that may never come: had the server waited, the answer
// would be 408 at the upload timeout.
func TestDeclaredLengthOverLimitRefusedBeforeBody(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	srv := httptest.NewServer(newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxUpload: 1 << 20, UploadTimeout: 2 * time.Second}))
	defer srv.Close()
	conn := rawPost(t, srv, "multipart/form-data; boundary=x", 10<<30, nil)
	code, body := readReply(t, conn, 30*time.Second)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "upload of 10737418240 bytes is over the 1 MB limit") {
		t.Fatalf("status %d body %s, want 413 naming the limit", code, body)
	}
}

// A slow body holds no slot: with one inference slot, a request sent while a
// slow client is still uploading is answered, and the slow one gets 408 at
// its upload deadline, naming it.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	srv := httptest.NewServer(newServer(t, &fakeEstimator{faces: twoFaces()},
		Config{MaxConcurrent: 1, UploadTimeout: time.Second}))
	defer srv.Close()
	body, ct := multipartBody(t, "file", pngBytes(t, 32, 32))
	data, _ := io.ReadAll(body)
	slow := rawPost(t, srv, ct, int64(len(data)), data[:len(data)/2])

	good, gct := multipartBody(t, "file", pngBytes(t, 16, 16))
	resp, err := srv.Client().Post(srv.URL+"/predict", gct, good)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("request beside a slow upload: status %d, want 200", resp.StatusCode)
	}
	code, msg := readReply(t, slow, 30*time.Second)
	if code != http.StatusRequestTimeout || !strings.Contains(msg, "upload not received within the 1s limit") {
		t.Fatalf("slow upload: status %d body %s, want 408 naming the limit", code, msg)
	}
}

// A chunked upload, which declares no length, is cut off at the limit.
func TestChunkedUploadOverLimit(t *testing.T) {
	srv := httptest.NewServer(newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxUpload: 4 << 10}))
	defer srv.Close()
	body, ct := multipartBody(t, "file", bytes.Repeat([]byte("x"), 8<<10))
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/predict", io.MultiReader(body)) // no length known
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if req.ContentLength != 0 || resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "upload is over the 4 KB limit") {
		t.Fatalf("length %d, status %d body %s, want a chunked upload refused with 413", req.ContentLength, resp.StatusCode, raw)
	}
}

// Past largeUploadsMax uploads over smallUpload holding or waiting for
// memory, the next one is answered 429 naming the limit, at once, instead
// of waiting for memory that stalled clients hold.
func TestTooManyLargeUploadsAnswered429(t *testing.T) {
	s := newServer(t, &fakeEstimator{faces: twoFaces()},
		Config{MaxMemory: 512 << 20, MaxUploadMemory: 128 << 20, UploadTimeout: time.Minute})
	srv := httptest.NewServer(s)
	defer srv.Close()
	form, ct := multipartBody(t, "file", bytes.Repeat([]byte("x"), 3<<20))
	data, _ := io.ReadAll(form)
	var stalled []net.Conn
	for range largeUploadsMax {
		stalled = append(stalled, rawPost(t, srv, ct, int64(len(data)), data[:1<<20])) // then stalled
	}
	// Closed before srv.Close, which would wait for their upload timeout.
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for give := time.Now().Add(30 * time.Second); s.uploads.largeIn.Load() < largeUploadsMax; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(give) {
			t.Fatalf("%d large uploads in progress after 30 s, want %d", s.uploads.largeIn.Load(), largeUploadsMax)
		}
	}
	next := rawPost(t, srv, ct, int64(len(data)), nil)
	go next.Write(data) // the server stops reading it
	code, body := readReply(t, next, 30*time.Second)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "too many large uploads in progress (limit 8); retry later") {
		t.Fatalf("status %d body %s, want 429 naming the limit", code, body)
	}
}
