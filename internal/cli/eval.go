package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/eval"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/iostreams"
	"github.com/agegender/agegender/internal/pipeline"
)

type evalOptions struct {
	engine    engineFlags
	labels    string
	reportDir string
	split     string
	asJSON    bool
	quiet     bool
	run       runFlags
}

func newCmdEval(ios *iostreams.IOStreams, open OpenEngine) *cobra.Command {
	var o evalOptions
	cmd := &cobra.Command{
		Use:   "eval PATH...",
		Short: "Score age and gender estimates against labelled images",
		Long: `eval runs labelled images through the same engine, workers and detection
modes as batch, and reports how far the estimates are from the labels: age
MAE, RMSE, share within 5 years and bias (predicted minus true), and gender
accuracy with its confusion matrix, overall, per age bucket (0-9, 10-19,
20-39, 40-59, 60+) and per race when the labels carry it, plus the 10 largest
age errors.

Labels come from UTKFace file names (AGE_GENDER_RACE_DATETIME.jpg.chip.jpg,
gender 0 male, 1 female) unless --labels names a CSV file with the header
path,age,gender (or file,age,gender, as AAF's labels.csv), which then
replaces them: gender is Male/Female, M/F or 0/1
(0 male, 1 female, as in UTKFace). Its paths match an input as given or by
base name (when only one labelled path has that name).

Of an image with several faces, the largest is the prediction. Every input
is accounted for as scored, failed, unlabelled or without a face; the text
summary shows the first 20 of each list, --json all of them.

--split keeps the files of training's deterministic validation split (val),
the others (train) or all (the default); files outside it are skipped before
they are run. The model's honest numbers are those of --split val over both
UTKFace folders: the embedded model never trained on those files, and train
includes the 5% calibration split it did not train on either.

--report DIR also writes summary.json, age_scatter.png, mae_by_bucket.png,
gender_by_bucket.png and an index.html showing them. DIR must be new, empty,
or an earlier eval report (one with our summary.json), whose five files are
then replaced; other folders are refused so that nothing else is overwritten.

Exit codes: 0 the evaluation ran (failed inputs are listed in the summary,
not signalled by the exit code), 1 usage or setup error, or no input could be
scored at all (the summary is still printed).`,
		Example: `  agegender eval ../shared/data/utkface ../shared/data/utkface-more --split val --detect off --report eval-report
  agegender eval ./photos --labels truth.csv --json > summary.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("eval needs at least one file or folder, or - to read paths from stdin")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return evalRun(cmd.Context(), ios, &o, args)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	fs.StringVar(&o.labels, "labels", "", "CSV file with path,age,gender labels (default: UTKFace file names)")
	fs.StringVar(&o.reportDir, "report", "", "also write summary.json, plots and index.html into this folder")
	fs.StringVar(&o.split, "split", string(eval.SplitAll), "files to evaluate: all, val (training's validation split) or train")
	fs.BoolVar(&o.asJSON, "json", false, "print the summary as JSON")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar and no report message")
	o.run.register(fs)
	return cmd
}

func evalRun(ctx context.Context, ios *iostreams.IOStreams, o *evalOptions, args []string) (err error) {
	if err := checkOutputFlags([2]string{"report", o.reportDir}); err != nil {
		return err
	}
	if err := o.run.validate(); err != nil {
		return err
	}
	split, err := eval.ParseSplit(o.split)
	if err != nil {
		return usageError{err}
	}
	lookup, err := eval.LoadLabels(o.labels)
	if err != nil {
		return err
	}
	// Refuse a bad report folder now rather than after the whole run.
	if o.reportDir != "" {
		if err := eval.CheckReportDir(o.reportDir); err != nil {
			return err
		}
	}
	exts := input.DefaultExtensions
	inputs, err := argInputs(ctx, args, exts, input.ReadList(ios.In, '\n', exts))
	if err != nil {
		return err
	}
	eng, err := o.engine.open(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, eng.Close()) }()

	bar := ios.Progress(o.quiet)
	var done func()
	if bar != nil {
		done = func() { bar.Add(1) }
	}
	// The same memory budget as batch: a labelled folder is as untrusted as
	// any other.
	opts := pipeline.Options{Workers: workerCount(o.run.workers, o.engine.threads, runtime.NumCPU()),
		Budget: o.run.budget()}
	sum, points, err := eval.Run(ctx, inputs, eng, lookup, split, opts, done)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	sum.DescribeEngine(eng.Info())
	if err := printSummary(ios, sum, o.asJSON); err != nil {
		return err
	}
	if o.reportDir != "" {
		if err := eval.WriteReport(o.reportDir, sum, points); err != nil {
			return err
		}
		if !o.quiet {
			printLine(ios.ErrOut, "report written to %s", filepath.Join(o.reportDir, eval.IndexFile))
		}
	}
	if sum.Counts.Scored == 0 {
		return fmt.Errorf("no input could be scored (%d inputs: %d failed, %d unlabelled, %d without a face)",
			sum.Counts.Inputs, sum.Counts.Failed, sum.Counts.Unlabelled, sum.Counts.NoFace)
	}
	return nil
}

func printSummary(ios *iostreams.IOStreams, sum eval.Summary, asJSON bool) error {
	if !asJSON {
		return eval.WriteText(ios.Out, sum)
	}
	if err := eval.WriteJSON(ios.Out, sum); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
