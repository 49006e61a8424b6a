// Package pipeline walks inputs, decodes them and runs them through an
// estimator with a pool of workers, handing each outcome, in input order, to
// the caller's sink. It knows nothing of output formats. Memory stays bounded
// however many inputs there are: inputs are streamed in, at most a fixed
// window of them is in flight, and results reach the sink as soon as their
// turn comes.
package pipeline

import (
	"context"
	"fmt"
	"image"
	"iter"
	"runtime"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/preprocess"
)

// Result is one input's outcome as the sink receives it.
type Result struct {
	face.Image
	// Warning is Options.Inspect's error for this input; the faces stand.
	Warning error
}

// Sink receives every result, in input order, from one goroutine. Its error
// stops the run.
type Sink func(Result) error

// Options tune a run.
type Options struct {
	// Workers is the number of decoding and inference goroutines; 0 means one per core.
	Workers int
	// Chunk is how many images a worker sends through the model together.
	Chunk  int
	Limits preprocess.Limits
	// Budget, when set, bounds the memory of the images held at once across
	// workers: each image reserves its header's CostWith the estimator
	// (plus its annotated copy with Inspect) before it is decoded and gives it back once the
	// estimator (and Inspect) are done with its pixels.
	Budget *budget.Budget
	// Inspect, when set, is called by the workers for each image that
	// succeeded, with its pixels and faces (annotated copies). It runs in the
	// workers, not in the sink, because the pixels must be let go before the
	// ordered sink gets to them: an image held until its turn would keep its
	// memory reserved while an earlier one waits for that memory. Its error
	// becomes the result's Warning.
	Inspect func(img *image.NRGBA, im face.Image) error
	// InspectCost is the memory Inspect takes per pixel, reserved from the
	// budget with the image's own.
	InspectCost int64
}

// Summary counts a run.
type Summary struct {
	Inputs, OK, Failed, Faces int
	// Warnings counts the results that carried one.
	Warnings int
	Elapsed  time.Duration
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
	in  input.Input
}

type done struct {
	seq int
	res Result
}

// Run processes inputs and hands one result per input, in input order, to
// sink. Per-input failures are results, not errors; Run returns an error only
// when the sink fails or ctx is cancelled, after the results so far are
// handed on.
func Run(ctx context.Context, inputs iter.Seq[input.Input], est face.Estimator, sink Sink, o Options) (Summary, error) {
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
	// reorder buffer in deliver.
	window := make(chan struct{}, o.Workers*o.Chunk*4)
	jobs := feed(ctx, inputs, window, o.Workers*o.Chunk)
	results := work(ctx, jobs, est, o)
	sum, writeErr := deliver(results, window, sink, cancel)
	sum.Elapsed = time.Since(start)
	if writeErr != nil {
		return sum, writeErr
	}
	return sum, ctx.Err()
}

// feed numbers the inputs and sends them on the channel it returns, each
// once it has a place in window; it stops taking inputs when ctx ends.
func feed(ctx context.Context, inputs iter.Seq[input.Input], window chan<- struct{}, buffer int) <-chan job {
	jobs := make(chan job, buffer)
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
	return jobs
}

// work starts o.Workers workers over jobs, each taking up to o.Chunk of them
// at a time, and returns their results, in no particular order; the channel
// closes when every worker is done.
func work(ctx context.Context, jobs <-chan job, est face.Estimator, o Options) <-chan done {
	results := make(chan done, o.Workers*o.Chunk)
	workersDone := make(chan struct{})
	for w := 0; w < o.Workers; w++ {
		go func() {
			defer func() { workersDone <- struct{}{} }()
			for first := range jobs {
				process(ctx, takeChunk(first, jobs, o.Chunk), est, o, func(d done) { results <- d })
			}
		}()
	}
	go func() {
		for w := 0; w < o.Workers; w++ {
			<-workersDone
		}
		close(results)
	}()
	return results
}

// takeChunk adds to first the jobs already waiting, up to size in all: a
// worker does not wait for a full chunk.
func takeChunk(first job, jobs <-chan job, size int) []job {
	chunk := []job{first}
	for len(chunk) < size {
		select {
		case j, ok := <-jobs:
			if !ok {
				return chunk
			}
			chunk = append(chunk, j)
		default:
			return chunk
		}
	}
	return chunk
}

// deliver hands the results to sink in input order, freeing a place in
// window for each, and counts them. After the sink's first error it calls
// cancel and drains the rest without handing them on.
func deliver(results <-chan done, window <-chan struct{}, sink Sink, cancel func()) (Summary, error) {
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
			delete(pending, next)
			next++
			<-window
			if writeErr != nil {
				continue
			}
			sum.count(pd.res)
			if err := sink(pd.res); err != nil {
				writeErr = fmt.Errorf("write results: %w", err)
				cancel()
			}
		}
	}
	return sum, writeErr
}

// count adds one result to the summary.
func (s *Summary) count(res Result) {
	s.Inputs++
	if res.Failed() {
		s.Failed++
	} else {
		s.OK++
	}
	s.Faces += len(res.Faces)
	if res.Warning != nil {
		s.Warnings++
	}
}

// process decodes a chunk and runs its images through the model together,
// handing each result to emit. With a budget, an image that does not fit
// while others of the chunk are held sends those through the model first,
// releasing them, and only then waits: a worker never waits while holding
// (workerMemory).
func process(ctx context.Context, chunk []job, est face.Estimator, o Options, emit func(done)) {
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
			name := h.d.res.Input
			switch {
			case errs[k] != nil:
				h.d.res.Err = fmt.Errorf("%s: %w", name, errs[k])
			case o.Inspect != nil:
				h.d.res.Faces = faces[k]
				if err := o.Inspect(h.img, h.d.res.Image); err != nil {
					h.d.res.Warning = fmt.Errorf("%s: %w", name, err)
				}
			default:
				h.d.res.Faces = faces[k]
			}
			h.release()
			emit(h.d)
		}
		batch = batch[:0]
	}
	mem := &workerMemory{ctx: ctx, b: o.Budget, holding: func() bool { return len(batch) > 0 }, flush: flush}
	for _, j := range chunk {
		d := done{seq: j.seq, res: Result{Image: face.Image{Input: j.in.Name}}}
		// After a cancel the rest of the chunk is reported, not processed,
		// so that Ctrl-C does not wait for queued slow images.
		if err := ctx.Err(); err != nil {
			d.res.Err = fmt.Errorf("%s: %w", j.in.Name, err)
			emit(d)
			continue
		}
		img, release, err := decode(ctx, j.in, o.Limits, mem, func(h preprocess.Header) int64 { return o.cost(h, est) })
		if err != nil {
			d.res.Err = err
			emit(d)
			continue
		}
		b := img.Bounds()
		d.res.Width, d.res.Height = b.Dx(), b.Dy()
		batch = append(batch, held{d: d, img: img, release: release})
	}
	flush()
}
