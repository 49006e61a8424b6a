package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/agegender/agegender/internal/testutil/hostile"
)

// class is one kind of upload in the mixed load, and how to send it.
type class struct {
	name string
	// send posts one upload and returns the status code.
	send func(ctx context.Context, c *http.Client, base string) (int, error)
}

// hostileClasses are the uploads a public endpoint must survive, each built
// once: headers that declare huge images, decompression bombs (one over the
// memory one image may take, one within it: the server decodes that one),
// a strip, a truncated crop, a slow body, a declared 10 GB body, JPEG scan
// bombs (one refused from its markers, one at the most decode work
// admitted), files whose decoders allocate beyond their pixels (a CMYK
// progressive JPEG, a 16-bit interlaced PNG), and a 19 MB upload that
// stalls after 17 MB.
func hostileClasses(good []byte, goodName string, uploadTimeout time.Duration) []class {
	file := func(name string, data []byte) class {
		return class{name, func(ctx context.Context, c *http.Client, base string) (int, error) {
			return postFile(ctx, c, base, data, name+".png")
		}}
	}
	slow := class{"slow-body", func(ctx context.Context, _ *http.Client, base string) (int, error) {
		body, ct := multipartFile(good, goodName)
		// Half the body, then nothing: the server must answer at its upload
		// deadline without having held a slot.
		return rawPost(ctx, base, ct, int64(len(body)), body[:len(body)/2], 2*uploadTimeout+10*time.Second)
	}}
	oversize := class{"declares-10GB", func(ctx context.Context, _ *http.Client, base string) (int, error) {
		return rawPost(ctx, base, "multipart/form-data; boundary=x", 10<<30, nil, 10*time.Second)
	}}
	large, largeType := multipartFile(make([]byte, 19<<20), "large.jpg")
	stalled := class{"stalls-at-17MB", func(ctx context.Context, _ *http.Client, base string) (int, error) {
		return rawPost(ctx, base, largeType, int64(len(large)), large[:17<<20], 2*uploadTimeout+10*time.Second)
	}}
	jpegFile := func(name string, data []byte) class {
		return class{name, func(ctx context.Context, c *http.Client, base string) (int, error) {
			return postFile(ctx, c, base, data, name+".jpg")
		}}
	}
	return []class{
		file("header-50000x50000", hostile.PNGHeaderOnly(50000, 50000)),
		file("header-10000x10000", hostile.PNGHeaderOnly(10000, 10000)),
		file("bomb-10000x10000", hostile.BlankGrayPNG(10000, 10000)),
		file("bomb-5000x5000", hostile.BlankGrayPNG(5000, 5000)),
		file("strip-100000x1", hostile.BlankGrayPNG(100000, 1)),
		{"truncated-crop", func(ctx context.Context, c *http.Client, base string) (int, error) {
			return postFile(ctx, c, base, good[:len(good)/2], goodName)
		}},
		slow,
		oversize,
		jpegFile("scan-bomb-800x800", hostile.ProgressiveJPEG(800, 800, 1, 100000)),
		jpegFile("scan-passes-1500x1500", hostile.ProgressiveJPEG(1500, 1500, 1, 31)),
		jpegFile("cmyk-progressive-2000x2000", hostile.ProgressiveJPEG(2000, 2000, 4, 1)),
		file("interlaced16-2000x2000", hostile.InterlacedPNG16(2000, 2000)),
		stalled,
	}
}

// multipartFile is the form body of a POST /predict with data in "file".
func multipartFile(data []byte, name string) ([]byte, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name) // writes to memory: cannot fail
	fw.Write(data)
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

// postFile posts data as the field "file" and returns the status code.
func postFile(ctx context.Context, c *http.Client, base string, data []byte, name string) (int, error) {
	body, ct := multipartFile(data, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/predict", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ct)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// rawPost writes the headers of a POST /predict declaring length bytes, and
// start of its body, on a connection of its own, then waits up to wait for the
// answer: a client that is slow or lies, which net/http's client cannot be.
func rawPost(ctx context.Context, base, contentType string, length int64, start []byte, wait time.Duration) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(conn, "POST /predict HTTP/1.1\r\nHost: loadtest\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		contentType, length, start); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
