package input

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"strings"
)

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
