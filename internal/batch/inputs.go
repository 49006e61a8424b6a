package batch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
)

// Input is one thing to process: a file, or stdin.
type Input struct {
	Name string
	// Open returns the bytes to decode.
	Open func() (io.ReadCloser, error)
	// Err is set when the input failed before it could be opened (a folder
	// that could not be read, a path that does not exist): it is still
	// reported, so that no input is lost.
	Err error
}

// DefaultExtensions are matched case-insensitively when walking folders.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// File is an Input that reads a file.
func File(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// Reader is an Input that reads r once, such as stdin.
func Reader(name string, r io.Reader) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

// Walk yields the files named by paths in order. A folder is walked
// recursively in lexical order, keeping files whose extension is in exts;
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
		return yield(Input{Name: root, Err: describe(root, err)})
	}
	if !st.IsDir() {
		return yield(File(root))
	}
	stopped := false
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !yield(Input{Name: p, Err: describe(p, err)}) {
				stopped = true
				return filepath.SkipAll
			}
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !hasExt(p, exts) {
			return nil
		}
		if !yield(File(p)) {
			stopped = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil && !stopped {
		return yield(Input{Name: root, Err: describe(root, err)})
	}
	return !stopped
}

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

// ReadList yields the paths listed in r, one per line (sep '\n', with a
// trailing '\r' dropped) or NUL-separated (sep 0, for find -print0); each is
// walked like a command-line path. Empty entries are skipped.
func ReadList(r io.Reader, sep byte, exts []string) iter.Seq[Input] {
	return func(yield func(Input) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.IndexByte(data, sep); i >= 0 {
				return i + 1, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		for sc.Scan() {
			p := sc.Text()
			if sep == '\n' {
				p = strings.TrimSuffix(p, "\r")
			}
			if p == "" {
				continue
			}
			if !walkOne(p, exts, yield) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Input{Name: "(path list)", Err: fmt.Errorf("read path list: %w", err)})
		}
	}
}

// describe words a file system error as "name: reason" once, without the
// path that os errors repeat.
func describe(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", name, err)
}
