package input

import (
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/agegender/agegender/internal/outfile"
)

// DefaultExtensions are matched case-insensitively when walking folders.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// Walk yields the files named by paths in order. A folder is walked
// recursively in lexical order, keeping files whose extension is in exts
// and skipping folders marked as agegender's outputs (outfile.IsMarked);
// a file named directly is always kept, whatever its extension, since the
// user asked for it.
func Walk(paths []string, exts []string) iter.Seq[Input] {
	return func(yield func(Input) bool) {
		for _, p := range paths {
			if !walkOne(p, exts, yield) {
				return
			}
		}
	}
}

func walkOne(root string, exts []string, yield func(Input) bool) bool {
	st, err := os.Stat(root)
	if err != nil {
		return yield(Input{Name: root, Rel: ".", Err: Describe(root, err)})
	}
	if !st.IsDir() {
		in := file(root)
		in.Rel = filepath.Base(root)
		return yield(in)
	}
	stopped := false
	found := 0
	// WalkDir does not follow a root that is a link to a folder; a trailing
	// separator makes it, and its joins drop the extra slash from the names.
	walkRoot := root
	if lst, err := os.Lstat(root); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		walkRoot = root + string(filepath.Separator)
	}
	rootMarked := outfile.IsMarked(root)
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			found++
			if !yield(Input{Name: p, Rel: relTo(walkRoot, p), Err: Describe(p, err)}) {
				stopped = true
				return filepath.SkipAll
			}
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() && p != walkRoot && outfile.IsMarked(p) {
			// agegender's own outputs (--annotate's copies); a folder the
			// user names as the root is walked all the same.
			return filepath.SkipDir
		}
		if d.IsDir() || !hasExt(p, exts) || rootMarked && strings.HasSuffix(p, outfile.AnnotatedSuffix) {
			return nil
		}
		found++
		in := file(p)
		in.Rel = relTo(walkRoot, p)
		if !yield(in) {
			stopped = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil && !stopped {
		return yield(Input{Name: root, Rel: ".", Err: Describe(root, err)})
	}
	// A folder the user named that gives nothing (empty, or a folder named
	// y.jpg) is reported, or the run would end with no row and exit 0.
	if found == 0 && !stopped {
		return yield(Input{Name: root, Rel: ".", Err: fmt.Errorf("%s: folder holds no files with the extensions %s", root, strings.Join(exts, " "))})
	}
	return !stopped
}

// relTo is p relative to the folder root it was walked from, slash-separated.
func relTo(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return filepath.ToSlash(p) // not under root; cannot happen in WalkDir
	}
	return filepath.ToSlash(r)
}

// hasExt reports whether p's extension is one of exts, in any case; object
// listings filter with it as folders are.
func hasExt(p string, exts []string) bool {
	e := strings.ToLower(filepath.Ext(p))
	for _, x := range exts {
		if e == strings.ToLower(x) {
			return true
		}
	}
	return false
}

// NormalizeExtensions turns "jpg, .PNG" into [".jpg", ".png"].
func NormalizeExtensions(list []string) []string {
	var out []string
	for _, item := range list {
		for _, e := range strings.Split(item, ",") {
			e = strings.ToLower(strings.TrimSpace(e))
			if e == "" {
				continue
			}
			if !strings.HasPrefix(e, ".") {
				e = "." + e
			}
			out = append(out, e)
		}
	}
	return out
}
