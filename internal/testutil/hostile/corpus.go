// Package hostile writes an adversarial input set for agegender batch: files
// that once crashed, hung or bloated it (strips, header-only bombs, a FIFO,
// links into /proc, a folder named y.jpg, names that are not UTF-8, that
// start with = or that hold terminal escapes) mixed
// with good images, and the row each input must get. Nothing is committed:
// the files are generated at run time, and good images are links to
// UTKFace crops when a folder of them is given.
package hostile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Options size a corpus.
type Options struct {
	// Good is the number of good images.
	Good int
	// Copies is how many times each hostile case is written (under distinct
	// names), to reach a share of hostile inputs in a large corpus.
	Copies int
	// Faces, when set, is a folder of face crops (UTKFace) that good images
	// link to; otherwise they are generated patterns.
	Faces string
}

// Case is one input and what its row must say.
type Case struct {
	// Entry is the line of the path list that names the input; it is also
	// the input name the row carries, but for an entry longer than any
	// path, whose row carries a name made of its start, length and hash
	// (Input).
	Entry string
	// Want is a part of the row's error, or "" when the input must succeed.
	Want    string
	Hostile bool
}

// Input is the input name the case's row carries: input.EntryName,
// written again here so that the corpus states the rule on its own;
// TestHostileCorpus and bench/hostile.sh fail if the two part.
func (k Case) Input() string {
	const maxPath = 4096
	if len(k.Entry) <= maxPath {
		return k.Entry
	}
	h := fnv.New64a()
	h.Write([]byte(k.Entry))
	return fmt.Sprintf("%s... (an entry of %d bytes, FNV-1a %016x)", k.Entry[:64], len(k.Entry), h.Sum64())
}

// Corpus is a written corpus: its cases in path-list order.
type Corpus struct {
	Cases []Case
}

// List is the corpus's path list, one entry per line, for `batch -`.
func (c Corpus) List() string {
	var b strings.Builder
	for _, k := range c.Cases {
		b.WriteString(k.Entry)
		b.WriteByte('\n')
	}
	return b.String()
}

// Write creates the corpus under dir, which must exist.
func Write(dir string, o Options) (Corpus, error) {
	o.Copies = max(o.Copies, 1)
	w := &writer{dir: dir}
	for i := range o.Copies {
		w.hostile(i)
	}
	hostile := w.cases
	w.cases = nil
	if err := w.good(o); err != nil {
		return Corpus{}, err
	}
	if w.err != nil {
		return Corpus{}, w.err
	}
	return Corpus{Cases: interleave(w.cases, hostile)}, nil
}

// interleave spreads the hostile cases evenly among the good ones, so that
// every worker meets them mid-run rather than all at the start.
func interleave(good, hostile []Case) []Case {
	out := make([]Case, 0, len(good)+len(hostile))
	for i, h := range hostile {
		end := (i + 1) * len(good) / len(hostile)
		out = append(out, good[len(out)-i:end]...)
		out = append(out, h)
	}
	return append(out, good[len(out)-len(hostile):]...)
}

type writer struct {
	dir   string
	cases []Case
	err   error
	// blank is the 10000x10000 PNG, compressed once for every copy; so are
	// the larger files of decodeWork.
	blank                               []byte
	scanBomb, interlaced, interlacedBig []byte
}

func (w *writer) add(name, want string, hostile bool) string {
	p := filepath.Join(w.dir, name)
	w.cases = append(w.cases, Case{Entry: p, Want: want, Hostile: hostile})
	return p
}

func (w *writer) file(name string, data []byte, want string) {
	if err := os.WriteFile(w.add(name, want, true), data, 0o644); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) check(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// hostile writes copy i of every hostile case.
func (w *writer) hostile(i int) {
	s := fmt.Sprintf("-%03d", i)
	w.file("strip-100000x1"+s+".png", encode(image.NewGray(image.Rect(0, 0, 100000, 1))), "aspect ratio")
	w.file("strip-1x20000"+s+".png", encode(image.NewGray(image.Rect(0, 0, 1, 20000))), "aspect ratio")
	w.file("header-10000x10000"+s+".png", PNGHeaderOnly(10000, 10000), "over the memory budget")
	w.file("header-10000x10000"+s+".jpg", jpegHeaderOnly(10000, 10000), "over the memory budget")
	w.file("header-10000x10000"+s+".gif", gifHeaderOnly(10000, 10000), "over the memory budget")
	w.file("header-50000x50000"+s+".png", PNGHeaderOnly(50000, 50000), "megapixel limit")
	if w.blank == nil {
		w.blank = BlankGrayPNG(10000, 10000)
	}
	w.file("blank-10000x10000"+s+".png", w.blank, "over the memory budget")
	w.decodeWork(s)
	w.file("truncated"+s+".jpg", goodJPEG(300, 200)[:400], "truncated or corrupt")
	w.file("empty"+s+".jpg", nil, "empty file")
	w.file("text"+s+".jpg", []byte("this is not a picture\n"), "not a supported image")
	w.file("tiny-1x1"+s+".png", encode(image.NewGray(image.Rect(0, 0, 1, 1))), "")
	w.file("tiny-2x1"+s+".png", encode(image.NewGray(image.Rect(0, 0, 2, 1))), "")
	// Names that act on a terminal if printed raw (a path list cannot hold a
	// newline): escaped in tables and on stderr, exact in JSON and CSV.
	for _, name := range []string{"=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "bad\xff", "bad\xfe",
		"esc\x1b[2J\x1b]0;owned\x07", "bidi\u202egnp", "c1\u009b2J", "cr\rx"} {
		w.file(name+s+".png", encode(pattern(64, 64, i)), "")
	}
	w.check(syscall.Mkfifo(w.add("fifo"+s+".jpg", "named pipe", true), 0o644))
	w.check(os.Mkdir(w.add("folder"+s+".jpg", "folder holds no files", true), 0o755))
	w.check(os.Mkdir(w.add("empty-folder"+s, "folder holds no files", true), 0o755))
	w.check(os.Symlink(filepath.Join(w.dir, "gone"+s+".jpg"), w.add("dangling"+s+".jpg", "no such file", true)))
	w.check(os.Symlink("/dev/zero", w.add("zero"+s+".jpg", "character device", true)))
	// Regular files whose reads block or never end: /proc/kmsg waits for the
	// kernel's next message, and hung a run that followed this link.
	w.check(os.Symlink("/proc/kmsg", w.add("kmsg"+s+".jpg", "procfs", true)))
	w.check(os.Symlink("/proc/self/status", w.add("proc-status"+s+".jpg", "procfs", true)))
	w.socket(w.add("socket"+s+".jpg", "socket", true))
	// A line longer than any path: it once ended the list, losing every
	// path after it.
	w.cases = append(w.cases, Case{Entry: strings.Repeat("x", 1<<20+i), Want: "longer than any path", Hostile: true})
}

// decodeWork writes the files whose decoding costs more than their size
// says: scan bombs (a minute of decoding in 147 KB), files whose decoder
// allocates beyond its image (four components, progressive coefficients,
// 16-bit interlaced PNG), within the budget and over it.
func (w *writer) decodeWork(s string) {
	if w.scanBomb == nil {
		w.scanBomb = ProgressiveJPEG(4700, 4700, 1, 2000)
		w.interlaced = InterlacedPNG16(3000, 2000)
		w.interlacedBig = InterlacedPNG16(5000, 5000)
	}
	w.file("scan-bomb"+s+".jpg", w.scanBomb, "over the 500 scan limit")
	w.file("tiny-scans"+s+".jpg", ProgressiveJPEG(8, 8, 1, 600), "over the 500 scan limit")
	w.file("scan-passes"+s+".jpg", ProgressiveJPEG(2000, 2000, 1, 40), "times over")
	w.file("rescanned-baseline"+s+".jpg", BaselineJPEG(640, 480, 3), "scans component 1 3 times")
	w.file("cmyk-progressive"+s+".jpg", ProgressiveJPEG(1500, 1500, 4, 1), "")
	w.file("cmyk-progressive-4000"+s+".jpg", ProgressiveJPEG(4000, 4000, 4, 1), "over the memory budget")
	w.file("interlaced16-3000x2000"+s+".png", w.interlaced, "")
	w.file("interlaced16-5000x5000"+s+".png", w.interlacedBig, "over the memory budget")
}

// socket leaves a Unix socket file at p.
func (w *writer) socket(p string) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		w.check(err)
		return
	}
	l.SetUnlinkOnClose(false)
	w.check(l.Close())
}

// good adds o.Good good images: links to face crops, or patterns.
func (w *writer) good(o Options) error {
	if o.Good <= 0 {
		return nil
	}
	gdir := filepath.Join(w.dir, "good")
	if err := os.Mkdir(gdir, 0o755); err != nil {
		return err
	}
	var faces []string
	if o.Faces != "" {
		m, err := filepath.Glob(filepath.Join(o.Faces, "*.jpg"))
		if err != nil || len(m) == 0 {
			return fmt.Errorf("no .jpg face crops in %s", o.Faces)
		}
		sort.Strings(m)
		faces = m
	}
	for i := range o.Good {
		if len(faces) > 0 {
			abs, err := filepath.Abs(faces[i%len(faces)])
			if err != nil {
				return err
			}
			if err := os.Symlink(abs, w.add(filepath.Join("good", fmt.Sprintf("%05d.jpg", i)), "", false)); err != nil {
				return err
			}
			continue
		}
		p := w.add(filepath.Join("good", fmt.Sprintf("%05d.png", i)), "", false)
		if err := os.WriteFile(p, encode(pattern(96, 96, i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return b.Bytes()
}

func goodJPEG(w, h int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, pattern(w, h, 1), nil); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func pattern(w, h, seed int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*3 + seed), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	return img
}

func chunk(b *bytes.Buffer, kind string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	c := append([]byte(kind), data...)
	b.Write(c)
	binary.Write(b, binary.BigEndian, crc32.ChecksumIEEE(c))
}

func ihdr(w, h uint32, colorType byte) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d[0:], w)
	binary.BigEndian.PutUint32(d[4:], h)
	d[8], d[9] = 8, colorType
	return d
}

// PNGHeaderOnly is a PNG that declares w x h RGBA pixels and holds none:
// 33 bytes that a decoder without limits takes at their word.
func PNGHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk(&b, "IHDR", ihdr(w, h, 6))
	return b.Bytes()
}

// BlankGrayPNG is a valid, complete w x h grey PNG of a few hundred KB,
// compressed row by row so that writing it takes no w*h buffer: a
// decompression bomb that the server's tests and bench/loadtest post too.
func BlankGrayPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk(&b, "IHDR", ihdr(w, h, 0))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, w+1) // filter byte 0, then grey 0
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

// jpegHeaderOnly is an SOI, a JFIF segment and a baseline SOF0 declaring
// w x h with 3 components, and nothing more.
func jpegHeaderOnly(w, h uint16) []byte {
	jfif := []byte("\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	sof := []byte{0xFF, 0xC0, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	return append(append([]byte{0xFF, 0xD8}, jfif...), sof...)
}

// gifHeaderOnly is a GIF header with a logical screen of w x h and a
// two-colour global table, and no image.
func gifHeaderOnly(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255)
}
