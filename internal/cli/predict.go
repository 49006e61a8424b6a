package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/iostreams"
	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/report"
)

type predictOptions struct {
	engine           engineFlags
	format           report.Format
	json, csv, jsonl bool
	run              runFlags
	annotate         string
	force            bool
}

func newCmdPredict(ios *iostreams.IOStreams, open OpenEngine) *cobra.Command {
	var o predictOptions
	cmd := &cobra.Command{
		Use:   "predict FILE...",
		Short: "Estimate age and gender of every face in images ('-' reads one image from stdin)",
		Example: `  agegender predict photo.jpg
  agegender predict --format json a.jpg b.png
  curl -s https://example.com/face.jpg | agegender predict -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("predict needs at least one image file, or - for stdin")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return predictRun(cmd.Context(), ios, &o, args)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	o.format = report.FormatTable
	fs.Var(&o.format, "format", "print in this format: "+strings.Join(report.Names(), ", "))
	fs.BoolVar(&o.json, "json", false, "print a JSON array, one object per image")
	fs.BoolVar(&o.csv, "csv", false, "print CSV, one row per face")
	fs.BoolVar(&o.jsonl, "jsonl", false, "print JSON Lines, one object per image")
	o.run.register(fs)
	fs.StringVar(&o.annotate, "annotate", "", "write a copy of each image with its faces drawn into this folder")
	fs.BoolVar(&o.force, "force", false, "overwrite existing annotated images")
	cmd.MarkFlagsMutuallyExclusive("json", "csv", "jsonl")
	cmd.MarkFlagsMutuallyExclusive("json", "csv", "jsonl", "format")
	return cmd
}

func predictRun(ctx context.Context, ios *iostreams.IOStreams, o *predictOptions, args []string) error {
	if err := checkOutputFlags([2]string{"annotate", o.annotate}); err != nil {
		return err
	}
	format := o.format
	switch {
	case o.json:
		format = report.FormatJSON
	case o.csv:
		format = report.FormatCSV
	case o.jsonl:
		format = report.FormatJSONL
	}
	stdin := func(yield func(input.Input) bool) { yield(input.Reader("-", ios.In)) }
	inputs, err := argInputs(ctx, args, input.DefaultExtensions, stdin)
	if err != nil {
		return err
	}
	return runJob(ctx, ios, jobSpec{
		engine: &o.engine, inputs: inputs, dest: job.Destination{Path: "-", Format: format, Force: o.force},
		run: &o.run, quiet: true, annotate: o.annotate,
	})
}
