package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agegender/agegender/internal/outfile"
	"github.com/agegender/agegender/internal/safeio"
)

// Input is one thing to process: a file, or stdin.
type Input struct {
	Name string
	// Rel is the path relative to the argument it was found under,
	// slash-separated ("a/b.jpg" under "photos"); a file named directly is its
	// base name, an error about the argument itself ".". Sharding hashes it,
	// so that the split does not depend on where the data is mounted.
	Rel string
	// Open returns the bytes to decode.
	Open func() (io.ReadCloser, error)
	// Idle is how long a read of it may make no progress before it fails;
	// with Idle set its reads also stop at once when the run is cancelled.
	// A negative Idle (noIdleLimit) keeps only the latter (stdin, which a
	// person or a slow pipe may feed); 0 reads Open's reader as it is, for
	// readers that cannot block.
	Idle time.Duration
	// Once is set when Open gives the same reader every time (stdin), so
	// the input can be read only once.
	Once bool
	// Err is set when the input failed before it could be opened (a folder
	// that could not be read, a path that does not exist): it is still
	// reported, so that no input is lost.
	Err error
}

// DefaultExtensions are matched case-insensitively when walking folders.
var DefaultExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// File is an Input that reads a file; anything but a regular file on a real
// file system (a FIFO, a device, a socket, a folder, a file of /proc or /sys,
// also through a link) fails when opened, without blocking.
func file(path string) Input {
	return Input{Name: path, Idle: safeio.DefaultIdle, Open: func() (io.ReadCloser, error) { return safeio.Open(path) }}
}

// noIdleLimit is an Input.Idle: reads stop when the run is cancelled, and
// may otherwise wait as long as they take.
const noIdleLimit time.Duration = -1

// Reader is an Input that reads r once, such as stdin.
func Reader(name string, r io.Reader) Input {
	return Input{Name: name, Idle: noIdleLimit, Once: true, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

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
		return yield(Input{Name: root, Rel: ".", Err: describe(root, err)})
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
			if !yield(Input{Name: p, Rel: relTo(walkRoot, p), Err: describe(p, err)}) {
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
		return yield(Input{Name: root, Rel: ".", Err: describe(root, err)})
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

// HasExtension reports whether p's extension is one of exts, in any case;
// object storage listings filter with it as folders are.
func HasExtension(p string, exts []string) bool { return hasExt(p, exts) }

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

// readEntry reads r up to and including sep, and returns at most keep
// bytes of it, its whole length and the FNV-1a hash of the whole but sep: an entry
// longer than any path is reported, not held (one 512 MB line once took
// 2.19 GB).
func readEntry(br *bufio.Reader, sep byte, keep int) (string, int, uint64, error) {
	var buf []byte
	n := 0
	h := fnv.New64a()
	for {
		frag, err := br.ReadSlice(sep)
		n += len(frag)
		if err == nil {
			h.Write(frag[:len(frag)-1]) // the hash leaves sep out
		} else {
			h.Write(frag)
		}
		if room := keep - len(buf); room > 0 {
			buf = append(buf, frag[:min(room, len(frag))]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return string(buf), n, h.Sum64(), err
		}
	}
}

// longEntryName names an entry of n bytes (its separator left out) longer
// than any path, of which prefix is the start, by its first bytes, its
// length and the hash of all of it, so that two such entries get two names.
func longEntryName(prefix string, n int, sum uint64) string {
	return fmt.Sprintf("%s... (an entry of %d bytes, FNV-1a %016x)", prefix[:min(len(prefix), 64)], n, sum)
}

// EntryName is the input name ReadList gives entry, a line of a path list
// without its separator: entry itself, or for one longer than any path, a
// name made of its start, its length and its hash.
func EntryName(entry string) string {
	if len(entry) <= maxPath {
		return entry
	}
	h := fnv.New64a()
	h.Write([]byte(entry))
	return longEntryName(entry, len(entry), h.Sum64())
}

// maxPath is Linux's PATH_MAX: no longer entry can name a file.
const maxPath = 4096

// ReadList yields the paths listed in r, one per line (sep '\n', with a
// trailing '\r' dropped) or NUL-separated (sep 0, for find -print0); each is
// walked like a command-line path. Empty entries are skipped.
func ReadList(r io.Reader, sep byte, exts []string) iter.Seq[Input] {
	return func(yield func(Input) bool) {
		// A Reader, not a Scanner: a Scanner stops at its longest token, and
		// one 1 MB line then lost every path after it.
		br := bufio.NewReader(r)
		for {
			p, n, sum, err := readEntry(br, sep, maxPath+2)
			if err == nil { // the entry ends with sep
				n--
				if len(p) > n { // kept whole, sep included
					p = p[:n]
				}
			}
			if sep == '\n' && n <= maxPath+1 && strings.HasSuffix(p, "\r") {
				p, n = p[:len(p)-1], n-1
			}
			switch {
			case n == 0:
			case n > maxPath:
				name := longEntryName(p, n, sum)
				if !yield(Input{Name: name, Rel: name, Err: fmt.Errorf("%.40q...: a path list entry of %d bytes, longer than any path (%d)", p, n, maxPath)}) {
					return
				}
			case !walkOne(p, exts, yield):
				return
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Input{Name: "(path list)", Err: fmt.Errorf("read path list: %w", err)})
				return
			}
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
