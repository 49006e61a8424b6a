package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveOn starts s.Serve on a loopback listener and returns its address and
// the function that stops it and returns Serve's error.
func serveOn(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-served:
			return err
		case <-time.After(time.Minute): // a guard against a hang
			return errors.New("Serve did not return")
		}
	})
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// getHealth sends GET /health on conn and reads the answer's status.
func getHealth(t *testing.T, conn net.Conn, br *bufio.Reader) int {
	t.Helper()
	fmt.Fprintf(conn, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET /health: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// closedByServer reports whether the server closed conn: a read ends with
// EOF or a reset rather than at the guard's deadline.
func closedByServer(conn net.Conn, br *bufio.Reader) bool {
	return closedWithin(conn, br, 10*time.Second)
}

// closedWithin is closedByServer with the guard's deadline given.
func closedWithin(conn net.Conn, br *bufio.Reader, guard time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(guard))
	_, err := br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// At the connection cap, a new client is served and an idle keep-alive
// connection is closed to make room: before, idle connections were kept
// until they timed out, and enough of them ran the process out of file
// descriptors. Which idle one goes is the server's view of when each turned
// idle, which a client cannot see exactly (the server marks a connection
// idle just after the client has read its answer), so this test asserts
// that exactly one closes and TestMakeRoomOrder holds the order.
func TestConnectionCapClosesAnIdleOne(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	s := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxConnections: 3})
	addr, _ := serveOn(t, s)
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if code := getHealth(t, c, br); code != http.StatusOK {
			t.Fatalf("keep-alive client %d: %d", i, code)
		}
		conns, readers = append(conns, c), append(readers, br)
	}
	fresh, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if code := getHealth(t, fresh, bufio.NewReader(fresh)); code != http.StatusOK {
		t.Fatalf("fresh client at the cap: %d, want 200", code)
	}
	// The room was made before the fresh client was served, so a closed
	// connection already reads its end. One deadline for the three: the
	// open ones wait it out together, not one after the other.
	deadline := time.Now().Add(time.Second)
	var closed []int
	for i := range conns {
		if closedWithin(conns[i], readers[i], time.Until(deadline)) {
			closed = append(closed, i)
		}
	}
	if len(closed) != 1 {
		t.Errorf("idle connections closed past the cap: %v, want exactly one", closed)
	}
}

// makeRoom closes idle connections first, the longest idle first, then the
// oldest still sending its headers, and never one in a handler.
func TestMakeRoomOrder(t *testing.T) {
	now := time.Now()
	l := newConnLimiter(nil, 3)
	mk := func(idle bool, inHandler int, ago time.Duration) *limitedConn {
		client, server := net.Pipe()
		t.Cleanup(func() { client.Close() })
		c := &limitedConn{Conn: server, l: l, idle: idle, inHandler: inHandler, since: now.Add(-ago)}
		l.conns[c] = struct{}{}
		return c
	}
	busy := mk(false, 1, time.Hour)
	headers := mk(false, 0, time.Minute)
	idleNew := mk(true, 0, time.Second)
	idleOld := mk(true, 0, 2*time.Second)
	for _, want := range []*limitedConn{idleOld, idleNew, headers} {
		if !l.makeRoom() {
			t.Fatal("makeRoom found no connection to close")
		}
		if _, open := l.conns[want]; open {
			t.Fatalf("makeRoom kept %+v open", want)
		}
		l.conns[&limitedConn{l: l, inHandler: 1}] = struct{}{} // the newcomer, now busy
	}
	if _, open := l.conns[busy]; !open || l.makeRoom() {
		t.Error("makeRoom closed a connection whose request is in a handler")
	}
}

// At the cap, connections that never finish their headers make room for a
// new client, oldest first; and headers over maxHeaderBytes are refused with
// 431, where a megabyte of them per connection was once accepted.
func TestHeaderFloodStaysBounded(t *testing.T) {
	t.Parallel() // its own server and fake; most of its time is waiting out its timeouts
	s := newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxConnections: 3})
	addr, _ := serveOn(t, s)
	big, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	go fmt.Fprintf(big, "GET /health HTTP/1.1\r\nHost: test\r\nX-Pad: %s\r\n\r\n", strings.Repeat("p", 64<<10))
	big.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(big), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KB of headers: %v %v, want 431", resp, err)
	}
	var stalled []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: test\r\nX-Pad: %s", strings.Repeat("p", 8<<10))
		stalled = append(stalled, c)
	}
	fresh, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if code := getHealth(t, fresh, bufio.NewReader(fresh)); code != http.StatusOK {
		t.Fatalf("fresh client beside stalled headers at the cap: %d, want 200", code)
	}
	if !closedByServer(stalled[0], bufio.NewReader(stalled[0])) {
		t.Error("the oldest connection stalled in its headers is still open past the cap")
	}
}

// Told to stop while an upload is still arriving, Serve answers it 503 and
// returns nil at once: before, the upload held shutdown past its grace and
// Serve failed.
func TestServeStopsASlowUpload(t *testing.T) {
	s := newServer(t, &fakeEstimator{faces: twoFaces()},
		Config{UploadTimeout: time.Minute, uploadStall: time.Minute, shutdownGrace: 3 * time.Second})
	addr, stop := serveOn(t, s)
	body, ct := multipartBody(t, "file", pngBytes(t, 64, 64))
	data, _ := io.ReadAll(body)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", ct, len(data))
	conn.Write(data[:len(data)/2])
	for give := time.Now().Add(30 * time.Second); s.uploadsInFlight() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(give) {
			t.Fatal("the upload never started")
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Serve with a slow upload in flight returned %v, want nil", err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow upload got no answer: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(raw), "server is shutting down") {
		t.Errorf("slow upload: %d %s, want 503 saying the server is stopping", resp.StatusCode, raw)
	}
}
