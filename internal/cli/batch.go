package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/iostreams"
	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/shard"
	"github.com/agegender/agegender/internal/storage"
)

type batchOptions struct {
	engine           engineFlags
	format           report.Format
	out              string
	csv, json, jsonl string
	force, quiet     bool
	run              runFlags
	list             job.Listing
	annotate         string
	shard            string
	shardCount       int
	resume           bool
	checkpoint       time.Duration
}

// batchLong is batch --help's text.
const batchLong = `batch walks each folder recursively (image extensions, any case) and writes
one row per face, and exactly one row for an input without faces or that
failed, with the reason in the error column.

Rows come in input order: the arguments in the order given, each folder's
files in lexical order of their paths. '-' reads paths from stdin, one per
line, or NUL-separated with -0 (find -print0).

Output goes to --out (a file, or - for stdout) in --format, by default the
one --out's extension names (.csv, .json, .jsonl, .txt), else JSON Lines;
--csv FILE is short for --format csv --out FILE, as are --json and --jsonl.
Files are written to a temporary file and moved into place when the run
ends; an existing file, even one created during the run, is kept unless
--force is given.

Only regular files are read; an image larger than --max-memory to decode, or
over 100 megapixels, or longer than 20 times its width, gets an error row.

--shard I/N processes only the inputs whose path relative to their argument
hashes (FNV-1a 64) to I mod N, so N processes running the same command line
split the work whatever order their listings come in. Without --shard, the
shard comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Job; the count
from --shard-count or AGEGENDER_SHARD_COUNT) or SLURM_ARRAY_TASK_ID
(SLURM_ARRAY_TASK_COUNT, counted from SLURM_ARRAY_TASK_MIN); --shard wins
over them. 'agegender merge' joins the shards' outputs in input order.

--resume writes the CSV or JSON Lines file in place, appending as inputs
finish, instead of through a temporary file: run the same command again with
--resume after a crash or preemption and it skips the inputs the file holds,
cuts away a last row a killed run left half-written, redoes a CSV file's last
input (CSV cannot show whether all its faces were written), and appends the
rest. The file's rows must be the listing's first inputs, one each, in
order, as merge checks shards; a file that is not, or a link, is
refused and left as it is. Without --resume an existing file is never touched.

A PATH, and the output file, may be an s3://BUCKET/PREFIX or
gs://BUCKET/PREFIX URL (file:// is a local path). Objects under a prefix are
listed in key order and streamed; the URL's query goes to the driver
(?region=..., ?endpoint=http://host:9000&use_path_style=true). Credentials
come from the cloud's own environment and config chain. An output object is
written when the run ends; with --resume it is also written every
--checkpoint.

Exit codes: 0 all inputs succeeded, 2 some failed, 1 usage or setup error.`

func newCmdBatch(ios *iostreams.IOStreams, open OpenEngine) *cobra.Command {
	var o batchOptions
	cmd := &cobra.Command{
		Use:   "batch PATH...",
		Short: "Estimate age and gender for folders of images, streaming one row per face",
		Long:  batchLong,
		Example: `  agegender batch ./photos --csv faces.csv
  find /data -name '*.jpg' -print0 | agegender batch -0 - --jsonl - > faces.jsonl
  agegender batch s3://bucket/photos/ --shard 2/8 --resume --jsonl s3://bucket/out/part-2.jsonl
  agegender merge --out faces.jsonl part-*.jsonl -- ./photos`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("batch needs at least one file or folder, or - to read paths from stdin")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return batchRun(cmd.Context(), ios, &o, args)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	fs.Var(&o.format, "format", "write in this format: "+strings.Join(report.Names(), ", ")+" (default: by --out's extension, else jsonl)")
	fs.StringVarP(&o.out, "out", "o", "-", "write to this file (- for stdout)")
	fs.StringVar(&o.csv, "csv", "", "write CSV to this file (- for stdout)")
	fs.StringVar(&o.json, "json", "", "write a JSON array to this file (- for stdout)")
	fs.StringVar(&o.jsonl, "jsonl", "", "write JSON Lines to this file (- for stdout; the default)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing output files")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar and no summary")
	o.run.register(fs)
	registerListing(fs, &o.list, "extensions to pick up in folders, e.g. jpg,png (default: jpg,jpeg,png,gif,bmp,tif,tiff,webp)")
	fs.StringVar(&o.annotate, "annotate", "", "write a copy of each image with its faces drawn into this folder")
	fs.StringVar(&o.shard, "shard", "", "process only shard INDEX/COUNT of the inputs, e.g. 0/8 (default: from $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID; 0/1 is everything)")
	fs.IntVar(&o.shardCount, "shard-count", 0, "the shard count for a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX (default: $AGEGENDER_SHARD_COUNT)")
	fs.BoolVar(&o.resume, "resume", false, "append to an existing CSV or JSON Lines output file in place, skipping the inputs it holds (a killed run's last row is redone)")
	fs.DurationVar(&o.checkpoint, "checkpoint", time.Minute, "with --resume to an s3:// or gs:// output, write the object this often, not only at the end")
	// --format and --out make a pair that --csv, --json and --jsonl each
	// are short for.
	for _, g := range [][]string{{"csv", "json", "jsonl"}, {"csv", "json", "jsonl", "format"}, {"csv", "json", "jsonl", "out"}, {"shard", "shard-count"}, {"resume", "force"}} {
		cmd.MarkFlagsMutuallyExclusive(g...)
	}
	return cmd
}

func batchRun(ctx context.Context, ios *iostreams.IOStreams, o *batchOptions, args []string) (err error) {
	if err := checkOutputFlags([2]string{"csv", o.csv}, [2]string{"json", o.json}, [2]string{"jsonl", o.jsonl}, [2]string{"out", o.out}, [2]string{"annotate", o.annotate}); err != nil {
		return err
	}
	format, path := o.format, o.out
	switch {
	case o.csv != "":
		format, path = report.FormatCSV, o.csv
	case o.json != "":
		format, path = report.FormatJSON, o.json
	case o.jsonl != "":
		format, path = report.FormatJSONL, o.jsonl
	case format == "":
		format = report.ByExt(path, report.FormatJSONL)
	}
	part, from, err := shard.Resolve(o.shard, o.shardCount, ios.Getenv)
	if err != nil {
		return usageError{err}
	}
	if from != "" {
		fmt.Fprintf(ios.ErrOut, "agegender: shard %v from %s (--shard 0/1 processes everything)\n", part, from)
	}
	if o.checkpoint < time.Second {
		return usagef("--checkpoint %v: must be at least 1s", o.checkpoint)
	}
	bs := storage.NewBuckets()
	defer func() { err = errors.Join(err, bs.Close()) }()
	inputs, err := o.list.Inputs(ctx, bs, args, ios.In)
	if err != nil {
		return usageError{err}
	}
	return runJob(ctx, ios, jobSpec{
		engine: &o.engine, inputs: job.InShard(inputs, part), run: &o.run, quiet: o.quiet, annotate: o.annotate,
		dest:    job.Destination{Path: path, Format: format, Resume: o.resume, Force: o.force, Checkpoint: o.checkpoint},
		buckets: bs,
	})
}
