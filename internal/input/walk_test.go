package input

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// tree creates empty files (and their folders) under a temporary root.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type got struct {
	names []string
	errs  map[string]error
}

func collect(seq func(func(Input) bool)) got {
	g := got{errs: map[string]error{}}
	for in := range seq {
		g.names = append(g.names, in.Name)
		if in.Err != nil {
			g.errs[in.Name] = in.Err
		}
	}
	return g
}

func rel(root string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if r, err := filepath.Rel(root, n); err == nil {
			out[i] = filepath.ToSlash(r)
		} else {
			out[i] = n
		}
	}
	return out
}

// Output order must be the same on every run and machine, so that a batch's
// report can be diffed; that is lexical order, depth first.
func TestWalkFolder(t *testing.T) {
	root := tree(t,
		"a/x.Png", "a/y.txt", "a.png", "b/2.JPG", "c.jpeg", "d.TIFF", "Z.jpg",
		"notes.txt", "README", "sub/deeper/z.gif", "sub/deeper/skip.psd", "e.webp", "f.bmp", "g.tif")
	g := collect(Walk([]string{root}, DefaultExtensions))
	want := []string{"Z.jpg", "a/x.Png", "a.png", "b/2.JPG", "c.jpeg", "d.TIFF", "e.webp", "f.bmp", "g.tif", "sub/deeper/z.gif"}
	if r := rel(root, g.names); !reflect.DeepEqual(r, want) {
		t.Fatalf("walked\n %q\nwant\n %q", r, want)
	}
	if len(g.errs) != 0 {
		t.Fatalf("errors: %v", g.errs)
	}
}

// A file named on the command line is the user's explicit choice: keep it
// whatever its extension. A missing path is reported, not dropped, so the
// user sees which argument was wrong.
func TestWalkPathsInOrder(t *testing.T) {
	root := tree(t, "dir/b.jpg", "dir/a.jpg", "dir/notes.txt", "README")
	missing := filepath.Join(root, "missing.jpg")
	paths := []string{filepath.Join(root, "dir"), filepath.Join(root, "README"), missing, filepath.Join(root, "dir", "notes.txt")}
	g := collect(Walk(paths, DefaultExtensions))
	want := []string{"dir/a.jpg", "dir/b.jpg", "README", "missing.jpg", "dir/notes.txt"}
	if r := rel(root, g.names); !reflect.DeepEqual(r, want) {
		t.Fatalf("walked %q, want %q", r, want)
	}
	err := g.errs[missing]
	if err == nil || len(g.errs) != 1 {
		t.Fatalf("errors %v, want one for %s", g.errs, missing)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q is not ErrNotExist", err)
	}
	// Named once, not "missing.jpg: stat missing.jpg: ...".
	if msg := err.Error(); !strings.HasPrefix(msg, missing+": ") || strings.Count(msg, missing) != 1 {
		t.Errorf("error %q should name the path once, first", msg)
	}
}

func TestWalkFileInputOpens(t *testing.T) {
	root := tree(t, "a.jpg")
	var ins []Input
	for in := range Walk([]string{root}, DefaultExtensions) {
		ins = append(ins, in)
	}
	if len(ins) != 1 || ins[0].Open == nil {
		t.Fatalf("inputs %+v", ins)
	}
	rc, err := ins[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "a.jpg" {
		t.Errorf("read %q", b)
	}
}

func TestWalkCustomExtensions(t *testing.T) {
	root := tree(t, "a.jpg", "b.JPG", "c.png", "d.raw")
	g := collect(Walk([]string{root}, NormalizeExtensions([]string{"JPG, raw"})))
	if r := rel(root, g.names); !reflect.DeepEqual(r, []string{"a.jpg", "b.JPG", "d.raw"}) {
		t.Fatalf("walked %q", r)
	}
}

// Breaking out of a range over Walk must stop the walk: yielding again after
// the loop ended panics in a range-over-func iterator.
func TestWalkStopsWhenConsumerBreaks(t *testing.T) {
	root := tree(t, "d1/a.jpg", "d1/b.jpg", "d2/c.jpg")
	for _, paths := range [][]string{
		{root, root},
		{filepath.Join(root, "nope1"), filepath.Join(root, "nope2")},
		{filepath.Join(root, "d1", "a.jpg"), root},
	} {
		total := len(collect(Walk(paths, DefaultExtensions)).names)
		for stop := 1; stop <= total; stop++ {
			n := 0
			for range Walk(paths, DefaultExtensions) {
				n++
				if n == stop {
					break
				}
			}
			if n != stop {
				t.Errorf("%v stop at %d: got %d", paths, stop, n)
			}
		}
	}
}

// One unreadable folder in a large tree must not lose the rest of the batch.
func TestWalkUnreadableFolderContinues(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads folders whatever their mode")
	}
	root := tree(t, "a.jpg", "locked/inside.jpg", "z.jpg")
	locked := filepath.Join(root, "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	g := collect(Walk([]string{root}, DefaultExtensions))
	if r := rel(root, g.names); !reflect.DeepEqual(r, []string{"a.jpg", "locked", "z.jpg"}) {
		t.Fatalf("walked %q", r)
	}
	err := g.errs[locked]
	if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.HasPrefix(err.Error(), locked+": ") {
		t.Fatalf("error for the locked folder: %v", err)
	}
}

func TestNormalizeExtensions(t *testing.T) {
	got := NormalizeExtensions([]string{"jpg, .PNG", " ", "Tiff,,webp", ".JPEG "})
	want := []string{".jpg", ".png", ".tiff", ".webp", ".jpeg"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := NormalizeExtensions([]string{"", " , "}); len(got) != 0 {
		t.Errorf("blank list gave %q", got)
	}
}

// Lists come from Windows editors (CRLF) and from find -print0 (NUL, so that
// any byte but NUL can be in a name); entries are walked like arguments.
func TestReadList(t *testing.T) {
	root := tree(t, "a.png", "b.jpg", "sub/c.gif", "sub/skip.txt", "line\nbreak.png", "notes.txt")
	p := func(s string) string { return filepath.Join(root, s) }
	missing := p("gone.jpg")

	lines := p("a.png") + "\r\n\r\n\n" + p("b.jpg") + "\n" + missing + "\r\n" + p("notes.txt") + "\n" + p("sub")
	g := collect(ReadList(strings.NewReader(lines), '\n', DefaultExtensions))
	want := []string{"a.png", "b.jpg", "gone.jpg", "notes.txt", "sub/c.gif"}
	if r := rel(root, g.names); !reflect.DeepEqual(r, want) {
		t.Fatalf("newline list gave %q, want %q", r, want)
	}
	if len(g.errs) != 1 || !errors.Is(g.errs[missing], fs.ErrNotExist) {
		t.Errorf("errors %v, want one for %s", g.errs, missing)
	}

	nul := "\x00" + p("a.png") + "\x00\x00" + p("line\nbreak.png") + "\x00" + p("sub") + "\x00"
	g = collect(ReadList(strings.NewReader(nul), 0, DefaultExtensions))
	want = []string{"a.png", "line\nbreak.png", "sub/c.gif"}
	if r := rel(root, g.names); !reflect.DeepEqual(r, want) {
		t.Fatalf("NUL list gave %q, want %q", r, want)
	}
	if len(g.errs) != 0 {
		t.Errorf("NUL list errors: %v", g.errs)
	}
}

// A line longer than any path (a binary piped in by mistake) is an error
// input of its own; the paths after it are still read. A Scanner stopped at
// its 1 MB buffer and lost every later path.
func TestReadListLongLine(t *testing.T) {
	root := tree(t, "a.png", "b.png")
	long := strings.Repeat("x", 2<<20)
	list := filepath.Join(root, "a.png") + "\n" + long + "\n" + filepath.Join(root, "b.png") + "\n"
	var ins []Input
	for in := range ReadList(strings.NewReader(list), '\n', DefaultExtensions) {
		ins = append(ins, in)
	}
	if len(ins) != 3 || ins[0].Err != nil || ins[2].Err != nil || filepath.Base(ins[2].Name) != "b.png" {
		t.Fatalf("%d inputs, want a.png, the long line, b.png", len(ins))
	}
	if ins[1].Name != EntryName(long) || ins[1].Err == nil || !strings.Contains(ins[1].Err.Error(), "a path list entry of 2097152 bytes, longer than any path") {
		t.Errorf("long line: name of %d bytes, error %.200v", len(ins[1].Name), ins[1].Err)
	}
	if n := len(ins[1].Err.Error()); n > 300 {
		t.Errorf("error message is %d bytes: it should not repeat the whole line", n)
	}
}

// A line of any length is read without being held: one 512 MB line once
// took 2.19 GB.
func TestReadListLongLineIsNotHeld(t *testing.T) {
	root := tree(t, "b.png")
	line := io.MultiReader(io.LimitReader(repeatReader('x'), 64<<20), strings.NewReader("\n"+filepath.Join(root, "b.png")+"\n"))
	var ins []Input
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for in := range ReadList(line, '\n', DefaultExtensions) {
		ins = append(ins, in)
	}
	runtime.ReadMemStats(&after)
	if len(ins) != 2 || ins[0].Err == nil || ins[1].Err != nil {
		t.Fatalf("%d inputs, want the long line's error, then b.png", len(ins))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("reading a 64 MB line allocated %d bytes", got)
	}
}

// repeatReader gives b forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestReadListStopsWhenConsumerBreaks(t *testing.T) {
	root := tree(t, "a.png", "b.png", "c.png")
	list := strings.Join([]string{root, filepath.Join(root, "nope"), root}, "\n")
	for stop := 1; stop <= 5; stop++ {
		n := 0
		for range ReadList(strings.NewReader(list), '\n', DefaultExtensions) {
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("stop at %d: got %d", stop, n)
		}
	}
}

// Rel is what sharding hashes: the path under its argument, the same
// wherever the folder is mounted.
func TestWalkRel(t *testing.T) {
	root := tree(t, "data/a/x.jpg", "data/b.png", "solo.jpg")
	var rels []string
	for in := range Walk([]string{filepath.Join(root, "data"), filepath.Join(root, "solo.jpg"), filepath.Join(root, "none")}, DefaultExtensions) {
		rels = append(rels, in.Rel)
	}
	if want := []string{"a/x.jpg", "b.png", "solo.jpg", "."}; !reflect.DeepEqual(rels, want) {
		t.Errorf("rel %q, want %q", rels, want)
	}
}

// Two entries longer than any path get two names, each what EntryName
// gives for it: they once shared the name of their first 4096 bytes.
func TestReadListNamesLongEntriesApart(t *testing.T) {
	a, b := strings.Repeat("x", maxPath+10), strings.Repeat("x", maxPath+9)+"y"
	var names []string
	for in := range ReadList(strings.NewReader(a+"\n"+b+"\n"), '\n', DefaultExtensions) {
		names = append(names, in.Name)
	}
	if len(names) != 2 || names[0] == names[1] || names[0] != EntryName(a) || names[1] != EntryName(b) || len(names[0]) > 200 {
		t.Errorf("names %q, want %q and %q", names, EntryName(a), EntryName(b))
	}
}

// A folder argument that gives no input (empty, or a folder named y.jpg
// holding no images) is an error row, not silence and exit 0.
func TestFolderArgumentWithNoInputsIsAnError(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	named := filepath.Join(dir, "y.jpg")
	os.Mkdir(empty, 0o755)
	os.Mkdir(named, 0o755)
	os.WriteFile(filepath.Join(named, "notes.txt"), []byte("x"), 0o644)
	g := collect(Walk([]string{empty, named}, DefaultExtensions))
	if len(g.names) != 2 || g.names[0] != empty || g.names[1] != named {
		t.Fatalf("inputs %q, want one row per folder", g.names)
	}
	for _, n := range g.names {
		if err := g.errs[n]; err == nil || !strings.Contains(err.Error(), "holds no files") {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// A folder argument that is a link to a folder is walked like the folder,
// not reported as holding no images.
func TestWalkFollowsALinkedFolderArgument(t *testing.T) {
	root := tree(t, "real/a.png", "real/sub/b.jpg")
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "real"), link); err != nil {
		t.Fatal(err)
	}
	g := collect(Walk([]string{link}, DefaultExtensions))
	want := []string{filepath.Join(link, "a.png"), filepath.Join(link, "sub", "b.jpg")}
	if strings.Join(g.names, "|") != strings.Join(want, "|") || len(g.errs) != 0 {
		t.Errorf("walked %q (errors %v), want %q", g.names, g.errs, want)
	}
}
