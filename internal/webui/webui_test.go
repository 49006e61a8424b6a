package webui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newPage(t *testing.T) *Page {
	t.Helper()
	p, err := New(Options{MaxUpload: 20 << 20, MaxUploadText: "20 MB"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestAssets serves each of the page's files with its type and the
// headers that keep it to its own origin.
func TestAssets(t *testing.T) {
	p := newPage(t)
	wantType := map[string]string{
		IndexPath:  "text/html; charset=utf-8",
		ScriptPath: "text/javascript; charset=utf-8",
		StylePath:  "text/css; charset=utf-8",
	}
	for _, path := range p.Paths() {
		rec := get(t, p, path, nil)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Fatalf("%s: status %d, %d bytes", path, rec.Code, rec.Body.Len())
		}
		h := rec.Header()
		if got := h.Get("Content-Type"); got != wantType[path] {
			t.Errorf("%s: Content-Type %q, want %q", path, got, wantType[path])
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
		if got := h.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("%s: Content-Security-Policy %q", path, got)
		}
		// A browser that has the page revalidates it for nothing.
		again := get(t, p, path, map[string]string{"If-None-Match": h.Get("ETag")})
		if again.Code != http.StatusNotModified {
			t.Errorf("%s: If-None-Match its ETag: status %d, want 304", path, again.Code)
		}
	}
	if rec := get(t, p, "/other", nil); rec.Code != http.StatusNotFound {
		t.Errorf("/other: status %d, want 404", rec.Code)
	}
}

// TestCSPAllowsOnlySelf holds the policy to the rule: nothing from
// another origin, no inline script.
func TestCSPAllowsOnlySelf(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("policy %q allows %q", ContentSecurityPolicy, bad)
		}
	}
	if !strings.HasPrefix(ContentSecurityPolicy, "default-src 'self';") {
		t.Errorf("policy %q does not default to 'self'", ContentSecurityPolicy)
	}
}

// TestPageIsSelfContained checks the markup for what the policy would block
// or what would leave the origin: inline handlers, inline scripts and
// styles, absolute URLs.
func TestPageIsSelfContained(t *testing.T) {
	p := newPage(t)
	html := get(t, p, IndexPath, nil).Body.String()
	js := get(t, p, ScriptPath, nil).Body.String()
	css := get(t, p, StylePath, nil).Body.String()
	checks := []struct {
		what string
		re   *regexp.Regexp
		in   string
	}{
		{"inline event handler", regexp.MustCompile(`(?i)\son[a-z]+\s*=`), html},
		{"style attribute", regexp.MustCompile(`(?i)\sstyle\s*=`), html},
		{"inline <style>", regexp.MustCompile(`(?i)<style`), html},
		{"inline <script>", regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]`), html},
		{"absolute URL in HTML", regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`), html},
		{"absolute URL in JS", regexp.MustCompile(`(?i)https?://`), js},
		{"URL in CSS", regexp.MustCompile(`(?i)url\(|@import`), css},
		{"innerHTML", regexp.MustCompile(`innerHTML|insertAdjacentHTML|eval\(|new Function`), js},
	}
	for _, c := range checks {
		if c.re.MatchString(c.in) {
			t.Errorf("page has an %s: %q", c.what, c.re.FindString(c.in))
		}
	}
	for _, want := range []string{`<input type="file" id="file"`, `aria-live="polite"`, `data-max-upload="20971520"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`up to\s+20 MB`).MatchString(html) {
		t.Error("page does not name the upload limit")
	}
}

func TestSize(t *testing.T) {
	p := newPage(t)
	n := 0
	for _, path := range p.Paths() {
		n += get(t, p, path, nil).Body.Len()
	}
	if p.Size() != n {
		t.Errorf("Size %d, want the %d bytes served", p.Size(), n)
	}
}
