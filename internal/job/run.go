// Package job owns a batch run from its inputs to a committed output: how
// inputs are listed and sharded, where the records go (Output: stdout, a
// file written atomically, an object, or a resumed file or object), Run,
// which writes every input's records in input order, and Merge, which joins
// the outputs of sharded runs. Commands only wire it together.
package job

import (
	"context"
	"errors"
	"fmt"
	"image"
	"iter"

	"github.com/agegender/agegender/internal/annotate"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
)

// appender is an Output that already holds the records of an earlier run
// (Resumed). Run leaves out the inputs it holds and, when interrupted,
// writes nothing after the first input left unfinished, so that the output
// stays a prefix of the listing and a resumed run keeps the order.
type appender interface {
	Output
	Pending(inputs iter.Seq[input.Input], note func(string)) iter.Seq[input.Input]
	Refused() error
	NeedsHeader() bool
	Name() string
}

// Options configure Run.
type Options struct {
	Format report.Format
	// TTY writes a table for a person at a terminal.
	TTY      bool
	Pipeline pipeline.Options
	// Done is called once per input written (a progress bar); may be nil.
	Done func()
	// Warn receives an input's warning or a failed checkpoint, which do not
	// stop the run; Note what a resumed output did to its file. nil
	// discards them.
	Warn func(error)
	Note func(string)
	// Annotate, when set, gets a copy of each image with its faces drawn.
	Annotate *annotate.Writer
}

// Run estimates the faces of inputs and writes their records to out in
// input order, one record or more per input. It ends out: Commit when the
// run got through (inputs that failed have their error rows), Abort when
// it did not.
func Run(ctx context.Context, inputs iter.Seq[input.Input], est face.Estimator, out Output, o Options) (sum pipeline.Summary, err error) {
	ok := false
	defer func() {
		end := out.Abort
		if ok {
			end = out.Commit
		}
		err = errors.Join(err, end(ctx))
	}()
	if o.Warn == nil {
		o.Warn = func(error) {}
	}
	if o.Note == nil {
		o.Note = func(string) {}
	}
	if o.Annotate != nil {
		o.Pipeline.Inspect = func(img *image.NRGBA, im face.Image) error { return o.Annotate.Write(img, im) }
		o.Pipeline.InspectCost = 4 // the NRGBA copy the faces are drawn on
	}
	app, resumed := out.(appender)
	if resumed {
		inputs = app.Pending(inputs, o.Note)
	}
	w, err := report.New(o.Format, out, report.Options{TTY: o.TTY, NoHeader: resumed && !app.NeedsHeader()})
	if err != nil {
		return sum, err
	}
	sum, runErr := pipeline.Run(ctx, inputs, est, sink(ctx, w, out, resumed, est.Mode(), o), o.Pipeline)
	if resumed && app.Refused() != nil {
		// Refused before any input ran: nothing was written.
		return sum, app.Refused()
	}
	closeErr := w.Close()
	if resumed && errors.Is(runErr, context.Canceled) && ctx.Err() != nil && closeErr == nil {
		return sum, &InterruptedError{Output: app.Name()}
	}
	if runErr != nil || closeErr != nil {
		return sum, errors.Join(runErr, closeErr)
	}
	ok = true
	return sum, nil
}

// sink writes each result in input order, with its warning, and lets out
// checkpoint. prefixOnly stops writing at the first input an interrupt left
// unfinished.
func sink(ctx context.Context, w report.Writer, out Output, prefixOnly bool, mode face.Mode, o Options) pipeline.Sink {
	gap := false
	return func(r pipeline.Result) error {
		if prefixOnly && (gap || ctx.Err() != nil && errors.Is(r.Err, context.Canceled)) {
			// Interrupted, not done: left out, so that --resume does it;
			// and so is every input after it, finished or not.
			gap = true
			return nil
		}
		r.Detect = mode
		if r.Warning != nil {
			o.Warn(r.Warning)
		}
		err := w.Write(r.Image)
		if o.Done != nil {
			o.Done()
		}
		if err == nil {
			// A failed checkpoint is not the end: the next one, or the
			// last, may get through.
			if cerr := out.Checkpoint(ctx); cerr != nil {
				o.Warn(fmt.Errorf("checkpoint: %w", cerr))
			}
		}
		return err
	}
}
