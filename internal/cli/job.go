package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"

	"github.com/agegender/agegender/internal/annotate"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/iostreams"
	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/storage"
)

// jobSpec is one run of inputs through the engine, shared by predict and batch.
type jobSpec struct {
	engine   *engineFlags
	inputs   iter.Seq[input.Input]
	dest     job.Destination
	run      *runFlags
	quiet    bool
	annotate string
	buckets  *storage.Buckets // object storage (nil where the command has none)
}

// runJob checks every flag, then opens the output, then the engine, so that
// a mistake leaves nothing behind, and hands them to job.Run.
func runJob(ctx context.Context, ios *iostreams.IOStreams, s jobSpec) (err error) {
	if err := s.run.validate(); err != nil {
		return err
	}
	if _, _, err := s.engine.params(); err != nil {
		return err
	}
	if s.dest.Resume {
		if err := job.CheckResumable(s.dest.Path, s.dest.Format); err != nil {
			return usageError{worded(err)}
		}
	}
	out, err := job.Open(ctx, s.buckets, s.dest, ios.Out, warnTo(ios.ErrOut))
	if err != nil {
		return err
	}
	opts := job.Options{
		Format: s.dest.Format, TTY: job.IsStdout(s.dest.Path) && ios.OutTTY,
		Warn: warnTo(ios.ErrOut), Note: func(msg string) { printLine(ios.ErrOut, "%s", msg) },
	}
	eng, err := s.prepare(ctx, &opts)
	if err != nil {
		// job.Run ends the output; until then, it is ended here.
		return errors.Join(err, out.Abort(ctx))
	}
	defer func() { err = errors.Join(err, eng.Close()) }()
	bar := ios.Progress(s.quiet)
	if bar != nil {
		opts.Done = func() { bar.Add(1) }
	}
	sum, err := job.Run(ctx, s.inputs, eng, out, opts)
	if bar != nil {
		bar.Finish()
	}
	if r, ok := out.(*job.Resumed); ok && r.Refused() != nil {
		return err
	}
	if !s.quiet {
		fmt.Fprintf(ios.ErrOut, "%d inputs: %d ok, %d failed, %d faces, %.1f images/s (detect %s)\n",
			sum.Inputs, sum.OK, sum.Failed, sum.Faces, sum.PerSecond(), eng.Mode())
	}
	if err != nil {
		return err
	}
	if sum.Failed > 0 || sum.Warnings > 0 {
		return errSomeFailed
	}
	return nil
}

// prepare opens the annotation folder and the engine, and sets the
// pipeline's options from the flags and the engine.
func (s jobSpec) prepare(ctx context.Context, opts *job.Options) (Engine, error) {
	var annotator *annotate.Writer
	if s.annotate != "" {
		var err error
		if annotator, err = annotate.NewWriter(s.annotate, s.dest.Force); err != nil {
			return nil, err
		}
	}
	eng, err := s.engine.open(ctx)
	if err != nil {
		return nil, err
	}
	opts.Pipeline = pipeline.Options{Workers: workerCount(s.run.workers, s.engine.threads, runtime.NumCPU()),
		Budget: s.run.budget()}
	opts.Annotate = annotator
	return eng, nil
}

// warnTo prints a warning that does not stop the run.
func warnTo(w io.Writer) func(error) {
	return func(err error) { printError(w, "agegender: warning: ", err) }
}

// argInputs lists the arguments of a command that reads no object storage,
// with "-" as stdin; a bad argument is a usage error.
func argInputs(ctx context.Context, args, exts []string, stdin iter.Seq[input.Input]) (iter.Seq[input.Input], error) {
	inputs, err := job.Args(ctx, nil, args, exts, stdin)
	if err != nil {
		return nil, usageError{err}
	}
	return inputs, nil
}
