package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agegender/agegender/internal/webui"
)

func do(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestPage serves the page at / with its security headers and the upload
// limit it names; only GET and HEAD reach it, and other paths stay 404 JSON.
func TestPage(t *testing.T) {
	srv := httptest.NewServer(newServer(t, &fakeEstimator{faces: twoFaces()}, Config{MaxUpload: 5 << 20}))
	defer srv.Close()

	resp, body := do(t, srv, http.MethodGet, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<input type="file"`) {
		t.Fatalf("GET /: status %d, body %.200q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != webui.ContentSecurityPolicy {
		t.Errorf("GET /: Content-Security-Policy %q", got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET /: X-Content-Type-Options %q", got)
	}
	if !strings.Contains(body, `data-max-upload="5242880"`) || !strings.Contains(body, "5 MB") {
		t.Errorf("GET /: page does not carry the 5 MB upload limit")
	}
	for path, ctype := range map[string]string{webui.ScriptPath: "text/javascript", webui.StylePath: "text/css"} {
		resp, _ := do(t, srv, http.MethodGet, path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: status %d, Content-Type %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, body := do(t, srv, http.MethodHead, "/"); resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /: status %d, body %q", resp.StatusCode, body)
	}
	resp, body = do(t, srv, http.MethodPost, "/")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || !strings.Contains(body, `"error"`) {
		t.Errorf("POST /: status %d, Allow %q, body %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	if resp, body := do(t, srv, http.MethodGet, "/index.html"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such endpoint") {
		t.Errorf("GET /index.html: status %d, body %s", resp.StatusCode, body)
	}
}

// TestNoPage: with the page off, / and its assets answer as any unknown
// path did before the page existed.
func TestNoPage(t *testing.T) {
	srv := httptest.NewServer(newServer(t, &fakeEstimator{faces: twoFaces()}, Config{NoPage: true}))
	defer srv.Close()
	for _, path := range []string{"/", webui.ScriptPath, webui.StylePath} {
		resp, body := do(t, srv, http.MethodGet, path)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(body, "no such endpoint "+path) {
			t.Errorf("GET %s with NoPage: status %d, %q, body %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s with NoPage: has a page's CSP", path)
		}
	}
}
