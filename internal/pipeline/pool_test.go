package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/preprocess"
)

// pngs[w] is a w x 2 PNG. The fake estimator reads the image width as its
// instruction, so each input's expected outcome is known up front.
var pngs = func() map[int][]byte {
	m := map[int][]byte{}
	for w := 1; w <= 7; w++ {
		img := image.NewNRGBA(image.Rect(0, 0, w, 2))
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, 0, color.NRGBA{uint8(x * 30), 100, 200, 255})
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			panic(err)
		}
		m[w] = b.Bytes()
	}
	return m
}()

// failWidth is the image width the fake estimator fails on.
const failWidth = 6

var errModel = errors.New("model exploded")

// fakeEstimator finds width%3 faces in an image and fails images failWidth
// wide. Workers call it concurrently.
type fakeEstimator struct {
	calls    atomic.Int64
	images   atomic.Int64
	maxBatch atomic.Int64
	delay    time.Duration
}

func (e *fakeEstimator) Mode() face.Mode { return face.DetectAuto }

// WorkingMemory is none: the budget tests here size images by their pixels.
func (e *fakeEstimator) WorkingMemory(int, int) int64 { return 0 }

func (e *fakeEstimator) FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	e.calls.Add(1)
	e.images.Add(int64(len(imgs)))
	for {
		m := e.maxBatch.Load()
		if int64(len(imgs)) <= m || e.maxBatch.CompareAndSwap(m, int64(len(imgs))) {
			break
		}
	}
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
		}
	}
	faces := make([][]face.Face, len(imgs))
	errs := make([]error, len(imgs))
	for i, img := range imgs {
		w := img.Bounds().Dx()
		if w == failWidth {
			errs[i] = errModel
			continue
		}
		for k := 0; k < w%3; k++ {
			faces[i] = append(faces[i], face.Face{Index: k, Age: float64(w)})
		}
	}
	return faces, errs
}

// recorder is a sink that keeps what it was given. Run calls the sink from
// one goroutine, but the lock keeps the race detector honest if it did not.
type recorder struct {
	mu      sync.Mutex
	ims     []face.Image
	failAt  int // 1-based Write call that fails; 0 never
	onWrite func(n int, im face.Image)
}

var errDiskFull = errors.New("disk full")

func (r *recorder) Write(im face.Image) error {
	r.mu.Lock()
	r.ims = append(r.ims, im)
	n := len(r.ims)
	r.mu.Unlock()
	if r.onWrite != nil {
		r.onWrite(n, im)
	}
	if n == r.failAt {
		return errDiskFull
	}
	return nil
}

func (r *recorder) sink(res Result) error { return r.Write(res.Image) }

func (r *recorder) written() []face.Image {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]face.Image(nil), r.ims...)
}

// want is what one generated input must come out as.
type want struct {
	name    string
	errHas  string // "" for success
	faces   int
	width   int
	errorIs error
}

// mixedInputs builds n inputs of every kind a batch meets: good images of
// several widths, empty files, text files, inputs that failed before opening,
// files that cannot be opened, and images the model fails on.
func mixedInputs(n int) ([]input.Input, []want) {
	ins := make([]input.Input, n)
	ws := make([]want, n)
	for i := range ins {
		name := fmt.Sprintf("img%04d.png", i)
		w := want{name: name}
		var in input.Input
		switch {
		case i%25 == 11:
			err := fmt.Errorf("%s: permission denied", name)
			in = input.Input{Name: name, Err: err}
			w.errHas, w.errorIs = "permission denied", err
		case i%50 == 19:
			in = input.Input{Name: name, Open: func() (io.ReadCloser, error) { return nil, errors.New("no such device") }}
			w.errHas = "no such device"
		case i%10 == 3:
			in = input.Reader(name, bytes.NewReader(nil))
			w.errHas = "empty file"
		case i%10 == 7:
			in = input.Reader(name, strings.NewReader("just some text\n"))
			w.errorIs = preprocess.ErrNotImage
			w.errHas = "not a supported image"
		default:
			width := 1 + i%7
			data := pngs[width]
			if i%2 == 0 {
				in = input.Reader(name, bytes.NewReader(data))
			} else {
				in = input.Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
			}
			w.width = width
			if width == failWidth {
				w.errHas, w.errorIs = errModel.Error(), errModel
			} else {
				w.faces = width % 3
			}
		}
		ins[i], ws[i] = in, w
	}
	return ins, ws
}

func check(t *testing.T, got []face.Image, ws []want) {
	t.Helper()
	if len(got) != len(ws) {
		t.Fatalf("%d results for %d inputs", len(got), len(ws))
	}
	for i, w := range ws {
		im := got[i]
		if im.Input != w.name {
			t.Fatalf("result %d is %q, want %q: order or identity lost", i, im.Input, w.name)
		}
		if w.errHas == "" {
			if im.Err != nil {
				t.Errorf("%s: unexpected error %v", w.name, im.Err)
			}
			if len(im.Faces) != w.faces {
				t.Errorf("%s: %d faces, want %d", w.name, len(im.Faces), w.faces)
			}
			if im.Width != w.width || im.Height != 2 {
				t.Errorf("%s: size %dx%d, want %dx2", w.name, im.Width, im.Height, w.width)
			}
			continue
		}
		if im.Err == nil {
			t.Errorf("%s: succeeded, want an error saying %q", w.name, w.errHas)
			continue
		}
		msg := im.Err.Error()
		if !strings.HasPrefix(msg, w.name+": ") || !strings.Contains(msg, w.errHas) {
			t.Errorf("%s: error %q should start with the name and say %q", w.name, msg, w.errHas)
		}
		if w.errorIs != nil && !errors.Is(im.Err, w.errorIs) {
			t.Errorf("%s: error %q does not wrap %v", w.name, msg, w.errorIs)
		}
		if len(im.Faces) != 0 {
			t.Errorf("%s: failed but has %d faces", w.name, len(im.Faces))
		}
	}
}

func TestRunMixedInputs(t *testing.T) {
	ins, ws := mixedInputs(500)
	est := &fakeEstimator{}
	rec := &recorder{}
	sum, err := Run(context.Background(), sliceSeq(ins), est, rec.sink, Options{Workers: 3, Chunk: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := rec.written()
	check(t, got, ws)

	var ok, failed, faces int
	for _, w := range ws {
		if w.errHas == "" {
			ok++
			faces += w.faces
		} else {
			failed++
		}
	}
	if sum.Inputs != 500 || sum.OK != ok || sum.Failed != failed || sum.Faces != faces {
		t.Errorf("summary %+v, want Inputs 500 OK %d Failed %d Faces %d", sum, ok, failed, faces)
	}
	if ok == 0 || failed == 0 || faces == 0 {
		t.Fatal("the generated inputs do not exercise both outcomes")
	}
	if sum.Elapsed <= 0 {
		t.Errorf("elapsed %v", sum.Elapsed)
	}
	if m := est.maxBatch.Load(); m > 4 {
		t.Errorf("estimator got a batch of %d, over Chunk 4", m)
	}
	// Every decoded image reaches the model exactly once; the rest never do.
	decoded := 0
	for _, w := range ws {
		if w.width > 0 {
			decoded++
		}
	}
	if got := est.images.Load(); got != int64(decoded) {
		t.Errorf("estimator saw %d images, want the %d that decoded", got, decoded)
	}
}

func sliceSeq(ins []input.Input) iter.Seq[input.Input] {
	return func(yield func(input.Input) bool) {
		for _, in := range ins {
			if !yield(in) {
				return
			}
		}
	}
}

// endless yields good inputs until the consumer stops, counting how many it
// handed out.
func endless(yielded *atomic.Int64) iter.Seq[input.Input] {
	return func(yield func(input.Input) bool) {
		for i := 0; ; i++ {
			yielded.Add(1)
			if !yield(input.Reader(fmt.Sprintf("in%06d", i), bytes.NewReader(pngs[1]))) {
				return
			}
		}
	}
}

// Whatever fails in one image of a chunk, the others in the chunk keep their
// own outcome: one bad photo must not take three good ones with it.
func TestProcessIsolatesFailuresInAChunk(t *testing.T) {
	closeErr := errors.New("close failed")
	chunk := []job{
		{0, input.Reader("ok1", bytes.NewReader(pngs[1]))},
		{1, input.Reader("bad-model", bytes.NewReader(pngs[failWidth]))},
		{2, input.Reader("text", strings.NewReader("hello"))},
		{3, input.Reader("ok2", bytes.NewReader(pngs[2]))},
		{4, input.Input{Name: "bad-close", Open: func() (io.ReadCloser, error) {
			return errCloser{bytes.NewReader(pngs[5]), closeErr}, nil
		}}},
		{5, input.Reader("ok5", bytes.NewReader(pngs[5]))},
	}
	est := &fakeEstimator{}
	var annotated []string
	var out []done
	process(context.Background(), chunk, est, Options{Inspect: func(img *image.NRGBA, im face.Image) error {
		annotated = append(annotated, im.Input)
		if img.Bounds().Dx() != im.Width {
			t.Errorf("%s: annotated with a %d-wide image, result says %d", im.Input, img.Bounds().Dx(), im.Width)
		}
		if im.Input == "ok5" {
			return errors.New("cannot draw")
		}
		return nil
	}}, func(d done) { out = append(out, d) })
	// Failures are handed on as they happen, the rest after the model run;
	// Run puts them back in input order.
	slices.SortFunc(out, func(a, b done) int { return a.seq - b.seq })
	if est.calls.Load() != 1 || est.images.Load() != 4 {
		t.Errorf("estimator: %d calls, %d images; want the 4 decoded images in one call", est.calls.Load(), est.images.Load())
	}
	wantErr := map[string]string{"bad-model": "bad-model: model exploded", "text": "text: not a supported", "bad-close": "bad-close: close failed"}
	for i, d := range out {
		if d.seq != chunk[i].seq || d.res.Input != chunk[i].in.Name {
			t.Fatalf("result %d is seq %d %q", i, d.seq, d.res.Input)
		}
		if w, bad := wantErr[d.res.Input]; bad {
			if d.res.Err == nil || !strings.HasPrefix(d.res.Err.Error(), w) {
				t.Errorf("%s: error %v, want %q", d.res.Input, d.res.Err, w)
			}
			if len(d.res.Faces) != 0 {
				t.Errorf("%s: failed with %d faces", d.res.Input, len(d.res.Faces))
			}
			continue
		}
		if d.res.Err != nil || len(d.res.Faces) != d.res.Width%3 {
			t.Errorf("%s: err %v, %d faces", d.res.Input, d.res.Err, len(d.res.Faces))
		}
		// A failed annotation fails only itself: the prediction row stands.
		if wantAnnot := d.res.Input == "ok5"; (d.res.Warning != nil) != wantAnnot ||
			(wantAnnot && !strings.HasPrefix(d.res.Warning.Error(), "ok5: cannot draw")) {
			t.Errorf("%s: annotation error %v", d.res.Input, d.res.Warning)
		}
	}
	if strings.Join(annotated, ",") != "ok1,ok2,ok5" {
		t.Errorf("annotated %v, want only the images the model succeeded on", annotated)
	}
}

type errCloser struct {
	io.Reader
	err error
}

func (c errCloser) Close() error { return c.err }

// Limits reach the decoder: a service relies on them against hostile uploads.
func TestRunAppliesLimits(t *testing.T) {
	rec := &recorder{}
	ins := []input.Input{input.Reader("big.png", bytes.NewReader(pngs[7]))}
	sum, err := Run(context.Background(), sliceSeq(ins), &fakeEstimator{}, rec.sink, Options{Limits: preprocess.Limits{MaxPixels: 13}})
	if err != nil {
		t.Fatal(err)
	}
	got := rec.written()
	if sum.Failed != 1 || len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "megapixel limit") {
		t.Fatalf("summary %+v, results %+v", sum, got)
	}
}

// Zero options mean "pick defaults", not "no workers" (which would hang).
func TestRunDefaults(t *testing.T) {
	ins, ws := mixedInputs(30)
	rec := &recorder{}
	sum, err := Run(context.Background(), sliceSeq(ins), &fakeEstimator{}, rec.sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, rec.written(), ws)
	if sum.Inputs != 30 {
		t.Errorf("summary %+v", sum)
	}
	empty := &recorder{}
	if sum, err := Run(context.Background(), sliceSeq(nil), &fakeEstimator{}, empty.sink, Options{}); err != nil || sum.Inputs != 0 || len(empty.written()) != 0 {
		t.Errorf("no inputs: %+v, %v", sum, err)
	}
}
