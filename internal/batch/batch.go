// Package batch runs many inputs through the engine with a pool of workers
// and hands the results, in input order, to one writer. Memory stays bounded
// however many inputs there are: inputs are streamed in, at most a fixed
// window of them is in flight, and results are written as soon as their
// turn comes.
package batch

import (
	"context"
	"fmt"
	"image"
	"iter"
	"runtime"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/report"
)

// Estimator finds and estimates faces; predict.Engine is one. FacesContext
// should stop soon after ctx is done, failing the images it did not finish.
type Estimator interface {
	FacesContext(ctx context.Context, imgs []*image.NRGBA) ([][]face.Face, []error)
	Mode() face.Mode
}

// Options tune a run.
type Options struct {
	// Workers is the number of decoding and inference goroutines; 0 means one per core.
	Workers int
	// Chunk is how many images a worker sends through the model together.
	Chunk  int
	Limits preprocess.Limits
	// Budget, when set, bounds the memory of the images held at once across
	// workers: each image reserves its header's Cost (plus its annotated
	// copy with Annotate) before it is decoded
	// and gives it back once its faces are written.
	Budget *budget.Budget
	// OnResult, when set, sees every result in output order (progress bars).
	OnResult func(face.Image)
	// Annotate, when set, is called by the workers for each image that
	// succeeded, with its pixels. Its error fails the annotation only: the
	// prediction row stands, and the error goes to Warn.
	Annotate func(img *image.NRGBA, im face.Image) error
	// Warn, when set, sees each annotation error, in output order.
	Warn func(error)
}

// Summary counts a run.
type Summary struct {
	Inputs, OK, Failed, Faces int
	// AnnotationsFailed counts the images whose annotated copy was not written.
	AnnotationsFailed int
	Elapsed           time.Duration
}

// PerSecond is the input throughput.
func (s Summary) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Inputs) / s.Elapsed.Seconds()
}

type job struct {
	seq int
	in  Input
}

type done struct {
	seq      int
	im       face.Image
	annotErr error
}

// Run processes inputs and writes one result per input, in input order, to
// out. Per-input failures are results, not errors; Run returns an error only
// when writing fails or ctx is cancelled, after the results so far are written.
func Run(ctx context.Context, inputs iter.Seq[Input], est Estimator, out report.Writer, o Options) (Summary, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Chunk <= 0 {
		o.Chunk = 8
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// window bounds inputs between the producer and the writer, and so the
	// reorder buffer below.
	window := make(chan struct{}, o.Workers*o.Chunk*4)
	jobs := make(chan job, o.Workers*o.Chunk)
	results := make(chan done, o.Workers*o.Chunk)

	go func() {
		defer close(jobs)
		seq := 0
		for in := range inputs {
			// select picks at random among ready cases, so with a free slot
			// it would go on taking inputs after a cancel; check first.
			if ctx.Err() != nil {
				return
			}
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			jobs <- job{seq, in}
			seq++
		}
	}()

	workersDone := make(chan struct{})
	for w := 0; w < o.Workers; w++ {
		go func() {
			defer func() { workersDone <- struct{}{} }()
			for first := range jobs {
				chunk := []job{first}
			fill:
				for len(chunk) < o.Chunk {
					select {
					case j, ok := <-jobs:
						if !ok {
							break fill
						}
						chunk = append(chunk, j)
					default:
						break fill
					}
				}
				process(ctx, chunk, est, o, func(d done) { results <- d })
			}
		}()
	}
	go func() {
		for w := 0; w < o.Workers; w++ {
			<-workersDone
		}
		close(results)
	}()

	var sum Summary
	var writeErr error
	pending := map[int]done{}
	next := 0
	for d := range results {
		pending[d.seq] = d
		for {
			pd, ok := pending[next]
			if !ok {
				break
			}
			im := pd.im
			delete(pending, next)
			next++
			<-window
			if writeErr != nil {
				continue
			}
			sum.Inputs++
			if im.Failed() {
				sum.Failed++
			} else {
				sum.OK++
			}
			sum.Faces += len(im.Faces)
			if pd.annotErr != nil {
				sum.AnnotationsFailed++
				if o.Warn != nil {
					o.Warn(pd.annotErr)
				}
			}
			if err := out.Write(im); err != nil {
				writeErr = fmt.Errorf("write results: %w", err)
				cancel()
			}
			if o.OnResult != nil {
				o.OnResult(im)
			}
		}
	}
	sum.Elapsed = time.Since(start)
	if writeErr != nil {
		return sum, writeErr
	}
	return sum, ctx.Err()
}

// process decodes a chunk and runs its images through the model together,
// handing each result to emit. With a budget, an image that does not fit
// while others of the chunk are held sends those through the model first,
// releasing them, and only then waits: a worker never waits while holding.
func process(ctx context.Context, chunk []job, est Estimator, o Options, emit func(done)) {
	type held struct {
		d       done
		img     *image.NRGBA
		release func()
	}
	var batch []held
	flush := func() {
		if len(batch) == 0 {
			return
		}
		imgs := make([]*image.NRGBA, len(batch))
		for k, h := range batch {
			imgs[k] = h.img
		}
		faces, errs := est.FacesContext(ctx, imgs)
		for k, h := range batch {
			name := h.d.im.Input
			switch {
			case errs[k] != nil:
				h.d.im.Err = fmt.Errorf("%s: %w", name, errs[k])
			case o.Annotate != nil:
				h.d.im.Faces = faces[k]
				if err := o.Annotate(h.img, h.d.im); err != nil {
					h.d.annotErr = fmt.Errorf("%s: %w", name, err)
				}
			default:
				h.d.im.Faces = faces[k]
			}
			h.release()
			emit(h.d)
		}
		batch = batch[:0]
	}
	reserve := func(h preprocess.Header) (func(), error) {
		if o.Budget == nil {
			return func() {}, nil
		}
		n := h.Cost()
		if o.Annotate != nil {
			n += int64(h.Width) * int64(h.Height) * 4 // the copy faces are drawn on
		}
		if len(batch) > 0 {
			if release, ok := o.Budget.TryAcquire(n); ok {
				return release, nil
			}
			flush()
		}
		return o.Budget.Acquire(ctx, n)
	}
	for _, j := range chunk {
		d := done{seq: j.seq, im: face.Image{Input: j.in.Name, Detect: est.Mode()}}
		// After a cancel the rest of the chunk is reported, not processed,
		// so that Ctrl-C does not wait for queued slow images.
		if err := ctx.Err(); err != nil {
			d.im.Err = fmt.Errorf("%s: %w", j.in.Name, err)
			emit(d)
			continue
		}
		img, release, err := decode(j.in, o.Limits, reserve)
		if err != nil {
			d.im.Err = err
			emit(d)
			continue
		}
		b := img.Bounds()
		d.im.Width, d.im.Height = b.Dx(), b.Dy()
		batch = append(batch, held{d: d, img: img, release: release})
	}
	flush()
}
