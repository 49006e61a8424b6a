package cli

import (
	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
)

type batchOptions struct {
	engine           engineFlags
	csv, json, jsonl string
	force, quiet     bool
	run              runFlags
	exts             []string
	null             bool
	annotate         string
}

func newCmdBatch(ios *IOStreams, open OpenEngine) *cobra.Command {
	var o batchOptions
	cmd := &cobra.Command{
		Use:   "batch PATH...",
		Short: "Estimate age and gender for folders of images, streaming one row per face",
		Long: `batch walks each folder recursively (image extensions, any case) and writes
one row per face, and exactly one row for an input without faces or that
failed, with the reason in the error column.

Rows come in input order: the arguments in the order given, each folder's
files in lexical order of their paths. '-' reads paths from stdin, one per
line, or NUL-separated with -0 (find -print0).

Output goes to --csv, --json or --jsonl (a file, or - for stdout); with none
of them, JSON Lines go to stdout. Files are written to a temporary file and
moved into place when the run ends; an existing file, even one created
during the run, is kept unless --force is given.

Only regular files are read; an image larger than --max-memory to decode, or
over 100 megapixels, or longer than 20 times its width, gets an error row.

Exit codes: 0 all inputs succeeded, 2 some failed, 1 usage or setup error.`,
		Example: `  agegender batch ./photos --csv faces.csv
  find /data -name '*.jpg' -print0 | agegender batch -0 - --jsonl - > faces.jsonl`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("batch needs at least one file or folder, or - to read paths from stdin")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return batchRun(cmd, ios, &o, args)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	fs.StringVar(&o.csv, "csv", "", "write CSV to this file (- for stdout)")
	fs.StringVar(&o.json, "json", "", "write a JSON array to this file (- for stdout)")
	fs.StringVar(&o.jsonl, "jsonl", "", "write JSON Lines to this file (- for stdout; the default)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing output files")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar and no summary")
	o.run.register(fs)
	fs.StringSliceVar(&o.exts, "ext", nil, "extensions to pick up in folders, e.g. jpg,png (default: jpg,jpeg,png,gif,bmp,tif,tiff,webp)")
	fs.BoolVarP(&o.null, "null", "0", false, "with -, paths on stdin are NUL-separated")
	fs.StringVar(&o.annotate, "annotate", "", "write a copy of each image with its faces drawn into this folder")
	cmd.MarkFlagsMutuallyExclusive("csv", "json", "jsonl")
	return cmd
}

func batchRun(cmd *cobra.Command, ios *IOStreams, o *batchOptions, args []string) error {
	if err := checkOutputFlags([2]string{"csv", o.csv}, [2]string{"json", o.json}, [2]string{"jsonl", o.jsonl}, [2]string{"annotate", o.annotate}); err != nil {
		return err
	}
	format, path := report.FormatJSONL, "-"
	switch {
	case o.csv != "":
		format, path = report.FormatCSV, o.csv
	case o.json != "":
		format, path = report.FormatJSON, o.json
	case o.jsonl != "":
		path = o.jsonl
	}
	exts := pipeline.DefaultExtensions
	if len(o.exts) > 0 {
		exts = pipeline.NormalizeExtensions(o.exts)
	}
	sep := byte('\n')
	if o.null {
		sep = 0
	}
	inputs, err := argInputs(args, exts, pipeline.ReadList(ios.In, sep, exts))
	if err != nil {
		return err
	}
	return runJob(cmd, ios, jobSpec{
		engine: &o.engine, inputs: inputs, outPath: path, format: format, run: &o.run,
		quiet: o.quiet, force: o.force, annotate: o.annotate, summary: true,
	})
}
