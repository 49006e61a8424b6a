// Package webui is the page that serve answers at GET /: a person picks,
// drops or pastes a photo, the page sends it to /predict on the same origin
// and shows every face boxed and labelled, with a table of the faces and the
// raw JSON. Its HTML, CSS and JS are embedded in the binary and load nothing
// from another origin, so it works offline and under a Content-Security-
// Policy that allows only the page's own origin.
//
// The page refers to its assets and to predict by relative URLs, so that it
// also works behind a proxy that serves it under a path prefix.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

// Paths of the page and its assets, as the server routes them.
const (
	IndexPath  = "/"
	ScriptPath = "/page.js"
	StylePath  = "/page.css"
)

// ContentSecurityPolicy allows the page only its own origin: scripts,
// styles and fetches from 'self', images from 'self' and the blob: URL of the
// photo being shown (data: only for the empty favicon that spares a request).
// No inline script, style attribute in markup or event handler runs.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed index.html page.css page.js
var files embed.FS

// Options is what the page tells the person about the server it talks to.
type Options struct {
	// MaxUpload is the server's upload limit in bytes: the page refuses a
	// larger file before sending it, naming the limit as MaxUploadText.
	MaxUpload     int64
	MaxUploadText string
}

// asset is one file of the page, ready to serve.
type asset struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

// Page serves the page and its assets. It is an http.Handler for the paths
// in Paths; any other path is answered 404 in plain text, which the server
// never routes here.
type Page struct {
	assets map[string]asset
}

// New renders the page for opts. The bytes are fixed from then on, so each
// asset carries an ETag and a browser revalidates instead of downloading
// them again.
func New(opts Options) (*Page, error) {
	index, err := renderIndex(opts)
	if err != nil {
		return nil, err
	}
	p := &Page{assets: map[string]asset{}}
	p.add(IndexPath, "index.html", index, "text/html; charset=utf-8")
	for path, a := range map[string]struct{ file, ctype string }{
		ScriptPath: {"page.js", "text/javascript; charset=utf-8"},
		StylePath:  {"page.css", "text/css; charset=utf-8"},
	} {
		body, err := files.ReadFile(a.file)
		if err != nil {
			return nil, fmt.Errorf("page asset %s: %w", a.file, err)
		}
		p.add(path, a.file, body, a.ctype)
	}
	return p, nil
}

// Paths are the URL paths the page answers.
func (p *Page) Paths() []string { return []string{IndexPath, ScriptPath, StylePath} }

// Size is the bytes of the page's HTML, CSS and JS together, as served
// (uncompressed).
func (p *Page) Size() int {
	n := 0
	for _, a := range p.assets {
		n += len(a.body)
	}
	return n
}

func renderIndex(opts Options) ([]byte, error) {
	tmpl, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("page template: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, opts); err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	return b.Bytes(), nil
}

func (p *Page) add(path, name string, body []byte, ctype string) {
	sum := sha256.Sum256(body)
	p.assets[path] = asset{name: name, body: body, ctype: ctype,
		etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// ServeHTTP answers GET and HEAD for one of Paths with the security headers;
// the caller checks the method.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := p.assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	// no-cache revalidates with the ETag, so a new binary's page is seen at
	// once and an unchanged one costs a 304.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
