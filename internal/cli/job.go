package cli

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"iter"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agegender/agegender/internal/annotate"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/storage"
)

// jobSpec is one run of inputs through the engine, shared by predict and batch.
type jobSpec struct {
	engine   *engineFlags
	inputs   iter.Seq[pipeline.Input]
	outPath  string
	format   report.Format
	run      *runFlags
	quiet    bool
	force    bool
	annotate string
	summary  bool
	// resume appends to outPath in place, skipping the inputs it holds.
	resume bool
	// remote opens object storage outputs; checkpoint is how often a
	// resumable one is written.
	remote     *remote
	checkpoint time.Duration
}

func runJob(cmd *cobra.Command, ios *IOStreams, s jobSpec) (err error) {
	// Every flag is checked before any output is created.
	if err := s.run.validate(); err != nil {
		return err
	}
	if _, _, err := s.engine.params(); err != nil {
		return err
	}
	var (
		out *output
		res *resumable
		ok  bool
	)
	if s.resume {
		var end func() error
		if res, end, err = resumeOutput(cmd.Context(), s); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, end()) }()
		out = &output{w: res.f, format: s.format}
		s.inputs = res.skipDone(s.inputs, s.format, ios.ErrOut)
	} else {
		if out, err = openOutput(s.remote, s.outPath, s.format, s.force, ios.Out, ios.ErrOut); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, out.finish(ok)) }()
	}

	var annotator *annotate.Writer
	if s.annotate != "" {
		if annotator, err = annotate.NewWriter(s.annotate, s.force); err != nil {
			return err
		}
	}
	eng, err := s.engine.open(cmd.Context())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, eng.Close()) }()

	w, err := report.New(s.format, out.w, report.Options{TTY: out.file == nil && res == nil && ios.OutTTY, NoHeader: res != nil && !res.needHeader})
	if err != nil {
		return usageError{err}
	}
	opts := pipeline.Options{Workers: workerCount(s.run.workers, s.engine.threads, runtime.NumCPU()),
		Budget: s.run.budget(), WorkCost: eng.WorkingMemory}
	if annotator != nil {
		opts.Inspect = func(img *image.NRGBA, im face.Image) error { return annotator.Write(img, im) }
		opts.InspectCost = 4 // the NRGBA copy the faces are drawn on
	}
	bar := newProgress(ios, s.quiet)
	ctx := cmd.Context()
	sum, runErr := pipeline.Run(ctx, s.inputs, eng, jobSink(ctx, ios, w, bar, res, eng.Mode()), opts)
	if bar != nil {
		bar.Finish()
	}
	if res != nil && res.err != nil {
		// Refused before any input ran: nothing was written.
		return res.err
	}
	closeErr := w.Close()
	if s.summary && !s.quiet {
		fmt.Fprintf(ios.ErrOut, "%d inputs: %d ok, %d failed, %d faces, %.1f images/s (detect %s)\n",
			sum.Inputs, sum.OK, sum.Failed, sum.Faces, sum.PerSecond(), eng.Mode())
	}
	if res != nil && errors.Is(runErr, context.Canceled) && ctx.Err() != nil && closeErr == nil {
		// Not "no output file was written" (Main's words for an interrupt).
		return fmt.Errorf("interrupted; %s holds every input finished so far, and the same command with --resume does the rest", s.outPath)
	}
	if runErr != nil || closeErr != nil {
		return errors.Join(runErr, closeErr)
	}
	ok = true
	if sum.Failed > 0 || sum.Warnings > 0 {
		return errSomeFailed
	}
	return nil
}

// jobSink writes each result in input order, with its warning, and
// checkpoints a resumable object output when one is due.
func jobSink(ctx context.Context, ios *IOStreams, w report.Writer, bar *progressbar.ProgressBar, res *resumable, mode face.Mode) pipeline.Sink {
	gap := false
	return func(r pipeline.Result) error {
		if res != nil && (gap || ctx.Err() != nil && errors.Is(r.Err, context.Canceled)) {
			// Interrupted, not done: left out, so that --resume does it;
			// and so is every input after it, finished or not, so that the
			// file stays a prefix of the inputs and resuming keeps the order.
			gap = true
			return nil
		}
		r.Detect = mode
		if r.Warning != nil {
			printError(ios.ErrOut, "agegender: warning: ", r.Warning)
		}
		err := w.Write(r.Image)
		if bar != nil {
			bar.Add(1)
		}
		if err == nil && res != nil && res.object != nil && res.object.due() {
			// A failed checkpoint is not the end: the next one, or the
			// last, may get through.
			if cerr := res.object.upload(); cerr != nil {
				printError(ios.ErrOut, "agegender: warning: checkpoint: ", cerr)
			}
		}
		return err
	}
}

// resumeOutput opens --resume's file (for an object, its local spool,
// fetched first) and returns it with what must be done when the run ends,
// however it ends: sync the file, write the object back, drop the spool.
func resumeOutput(ctx context.Context, s jobSpec) (*resumable, func() error, error) {
	if s.outPath == "-" || (s.format != report.FormatCSV && s.format != report.FormatJSONL) {
		return nil, nil, usagef("--resume needs an output file: --jsonl FILE or --csv FILE (a JSON array cannot be appended to)")
	}
	local := s.outPath
	var obj *spoolObject
	if storage.IsURL(s.outPath) {
		// The object is fetched into a spool, resumed there, and written
		// back at each checkpoint and at the end.
		var err error
		if obj, err = newSpool(s.remote, s.outPath, true); err != nil {
			return nil, nil, err
		}
		obj.every = s.checkpoint
		if _, err := s.remote.downloadTo(s.outPath, obj.spool); err != nil {
			obj.discard()
			return nil, nil, fmt.Errorf("--resume %s: %w", s.outPath, err)
		}
		local = obj.spool.Name()
	} else {
		var err error
		if local, err = storage.LocalPath(local); err != nil {
			return nil, nil, usageError{err}
		}
	}
	res, err := openResumable(ctx, local, s.format)
	if err != nil {
		if obj != nil {
			obj.discard()
		}
		return nil, nil, err
	}
	res.object = obj
	end := func() error {
		err := res.close()
		if obj != nil {
			obj.discard()
		}
		return err
	}
	return res, end, nil
}

// inputListing is how batch lists its inputs (--ext, --null). merge takes
// the same flags and lists them again through it, so that its input order is
// batch's by construction.
type inputListing struct {
	exts []string
	null bool
}

func (l *inputListing) register(fs *pflag.FlagSet, extHelp string) {
	fs.StringSliceVar(&l.exts, "ext", nil, extHelp)
	fs.BoolVarP(&l.null, "null", "0", false, "with -, paths on stdin are NUL-separated")
}

// inputs lists args (and stdin for "-") as argInputs does, with the flags'
// extensions and separator.
func (l inputListing) inputs(rm *remote, args []string, stdin io.Reader) (iter.Seq[pipeline.Input], error) {
	exts := pipeline.DefaultExtensions
	if len(l.exts) > 0 {
		exts = pipeline.NormalizeExtensions(l.exts)
	}
	sep := byte('\n')
	if l.null {
		sep = 0
	}
	return argInputs(rm, args, exts, pipeline.ReadList(stdin, sep, exts))
}

// argInputs turns command-line arguments into inputs in the order given:
// each path is walked with exts, an s3:// or gs:// URL listed in rm (nil
// where the command reads no object storage), and "-" (allowed once)
// becomes fromStdin.
func argInputs(rm *remote, given, exts []string, fromStdin iter.Seq[pipeline.Input]) (iter.Seq[pipeline.Input], error) {
	args := make([]string, len(given))
	for i, a := range given {
		if storage.IsURL(a) && rm == nil {
			return nil, usagef("%s: only batch and merge read object storage", a)
		}
		local, err := storage.LocalPath(a)
		if err != nil {
			return nil, usageError{err}
		}
		args[i] = local
	}
	stdin := 0
	for _, a := range args {
		if a == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, usagef("'-' (stdin) can be given only once")
	}
	return func(yield func(pipeline.Input) bool) {
		for _, a := range args {
			seq := fromStdin
			switch {
			case storage.IsURL(a):
				seq = storage.Inputs(rm.ctx, rm.bs, a, exts)
			case a != "-":
				seq = pipeline.Walk([]string{a}, exts)
			}
			for in := range seq {
				if !yield(in) {
					return
				}
			}
		}
	}, nil
}
