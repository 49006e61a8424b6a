package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/iostreams"
	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/storage"
)

type mergeOptions struct {
	out   string
	force bool
	list  job.Listing
}

func newCmdMerge(ios *iostreams.IOStreams) *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge SHARD_OUTPUT... -- PATH...",
		Short: "Join the outputs of batch --shard runs into one, in input order",
		Long: `merge joins the CSV or JSON Lines outputs of 'batch --shard I/N' runs into
the output one unsharded run would have written, byte for byte. After --
come the same inputs the batch was given (folders, files, - for a path list
on stdin, with the same --ext and -0): they are listed again, not read, to
know the order.

Every input must have its rows in exactly one shard output. merge refuses,
naming the input and the files, an input with rows in two outputs, an input
with no rows in any (a shard that did not finish: rerun it with --resume),
rows for inputs the listing does not have, a duplicated row, a row with no
result (a bare {"input": ...}; a CSV cell that is not a number where one
belongs), and a shard output whose last row was cut short by a killed run.
Nothing is written then.

Exit codes: 0 merged, 1 refused or usage error.`,
		Example: `  agegender merge --out faces.csv shard-*.csv -- ./photos`,
		Args: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 0 {
				return usagef("merge needs the batch's inputs after --, to know their order: merge SHARD_OUTPUT... -- PATH...")
			}
			if dash == 0 {
				return usagef("merge needs at least one shard output before --")
			}
			if dash == len(args) {
				return usagef("merge needs the batch's inputs after --")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			return mergeRun(cmd.Context(), ios, &o, args[:dash], args[dash:])
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.out, "out", "o", "-", "write the merged output to this file (- for stdout)")
	fs.BoolVar(&o.force, "force", false, "overwrite an existing output file")
	registerListing(fs, &o.list, "the extensions batch was given with --ext")
	return cmd
}

func mergeRun(ctx context.Context, ios *iostreams.IOStreams, o *mergeOptions, shardPaths, inputArgs []string) (err error) {
	if err := checkOutputFlags([2]string{"out", o.out}); err != nil {
		return err
	}
	bs := storage.NewBuckets()
	defer func() { err = errors.Join(err, bs.Close()) }()
	format, err := job.SniffFormat(ctx, bs, shardPaths)
	if err != nil {
		return err
	}
	inputs, err := o.list.Inputs(ctx, bs, inputArgs, ios.In)
	if err != nil {
		return usageError{err}
	}
	out, err := job.Create(ctx, bs, o.out, o.force, ios.Out, warnTo(ios.ErrOut))
	if err != nil {
		return err
	}
	n, err := job.RunMerge(ctx, bs, shardPaths, format, inputs, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(ios.ErrOut, "merged %d inputs from %d shard outputs\n", n, len(shardPaths))
	return nil
}
