package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/internal/storage"
)

type mergeOptions struct {
	out   string
	force bool
	list  inputListing
}

func newCmdMerge(ios *IOStreams) *cobra.Command {
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
	o.list.register(fs, "the extensions batch was given with --ext")
	return cmd
}

// shardFile is one shard output being read, one record ahead.
type shardFile struct {
	name string
	r    *report.RecordReader
	c    io.Closer
	head *report.Record // nil once the file is exhausted
	// prev and prevLine are the key and line of the record before head,
	// to name a repeated row.
	prev     string
	prevLine int
}

// dupOf is the line of the record before head when head repeats its input.
func (s *shardFile) dupOf() int {
	if s.head != nil && s.prevLine > 0 && s.head.Key == s.prev {
		return s.prevLine
	}
	return 0
}

func (s *shardFile) advance() error {
	if s.head != nil {
		s.prev, s.prevLine = s.head.Key, s.head.LineNo
	}
	rec, err := s.r.Next()
	switch {
	case errors.Is(err, io.EOF):
		s.head = nil
		return nil
	case errors.Is(err, report.ErrTorn):
		return fmt.Errorf("%s: %w: its shard was killed; run it again with --resume", s.name, err)
	case err != nil:
		return err
	}
	s.head = &rec
	return nil
}

func mergeRun(ctx context.Context, ios *IOStreams, o *mergeOptions, shardPaths, inputArgs []string) (err error) {
	if err := checkOutputFlags([2]string{"out", o.out}); err != nil {
		return err
	}
	rm := newRemote(ctx)
	defer func() { err = errors.Join(err, rm.close()) }()
	format, err := sniffFormats(rm, shardPaths)
	if err != nil {
		return err
	}
	inputs, err := o.list.inputs(rm, inputArgs, ios.In)
	if err != nil {
		return err
	}
	shards, err := openShards(rm, format, shardPaths)
	defer func() {
		for _, s := range shards {
			s.c.Close()
		}
	}()
	if err != nil {
		return err
	}

	out, err := openOutput(rm, o.out, format, o.force, ios.Out, ios.ErrOut)
	if err != nil {
		return err
	}
	ok := false
	defer func() { err = errors.Join(err, out.finish(ok)) }()
	bw := bufio.NewWriterSize(out.w, 256<<10)
	cw := csv.NewWriter(bw)
	if format == report.FormatCSV {
		bw.Write(report.CSVHeader())
	}
	n := 0
	for in := range inputs {
		key := report.Key(format, in.Name)
		var from *shardFile
		for _, s := range shards {
			if s.head == nil || s.head.Key != key {
				continue
			}
			if from != nil {
				return fmt.Errorf("%s has rows in both %s and %s; a file given twice, or shards of two different splits", in.Name, from.name, s.name)
			}
			from = s
		}
		if from == nil {
			for _, s := range shards {
				if dup := s.dupOf(); dup > 0 {
					return strayRecord(s.name, *s.head, dup, key, format, nil)
				}
			}
			return fmt.Errorf("%s has no rows next in any shard output: its shard did not finish (run it again with --resume), or the inputs after -- differ from the batch's; the next rows are %s", in.Name, heads(shards))
		}
		if err := report.WriteRecord(format, bw, cw, *from.head); err != nil {
			return fmt.Errorf("write merged output: %w", err)
		}
		cw.Flush()
		// A row repeated in a shard is left at its head, where it matches
		// the next input only if the listing repeats it too (a path given
		// twice); otherwise the next input or the end reports it.
		if err := from.advance(); err != nil {
			return err
		}
		n++
	}
	for _, s := range shards {
		if s.head != nil {
			return strayRecord(s.name, *s.head, s.dupOf(), "", format, nil)
		}
	}
	if err := errors.Join(cw.Error(), bw.Flush()); err != nil {
		return fmt.Errorf("write merged output: %w", err)
	}
	ok = true
	fmt.Fprintf(ios.ErrOut, "merged %d inputs from %d shard outputs\n", n, len(shards))
	return nil
}

// openShards opens the shard outputs and reads each one's first record;
// the shards opened are returned, to be closed, even with an error.
func openShards(rm *remote, format report.Format, paths []string) ([]*shardFile, error) {
	shards := make([]*shardFile, 0, len(paths))
	for _, p := range paths {
		f, err := openShard(rm, p)
		if err != nil {
			return shards, err
		}
		r, err := report.NewRecordReader(format, bufio.NewReaderSize(f, 256<<10), p)
		if err != nil {
			f.Close()
			return shards, err
		}
		s := &shardFile{name: p, r: r, c: f}
		shards = append(shards, s)
		if err := s.advance(); err != nil {
			return shards, err
		}
	}
	return shards, nil
}

func heads(shards []*shardFile) string {
	var parts []string
	for _, s := range shards {
		h := "(none left)"
		if s.head != nil {
			h = fmt.Sprintf("%q", s.head.Key)
		}
		parts = append(parts, s.name+": "+h)
	}
	return strings.Join(parts, "; ")
}

// sniffFormats tells CSV from JSON Lines by each file's first byte, and
// refuses a mix. Empty files (a shard with no inputs) fit either.
func sniffFormats(rm *remote, paths []string) (report.Format, error) {
	var format report.Format
	var first string
	for _, p := range paths {
		f, err := openShard(rm, p)
		if err != nil {
			return "", err
		}
		b := make([]byte, 1)
		n, _ := io.ReadFull(f, b)
		f.Close()
		if n == 0 {
			continue
		}
		var ff report.Format
		switch b[0] {
		case '{':
			ff = report.FormatJSONL
		case 'i':
			ff = report.FormatCSV
		default:
			return "", fmt.Errorf("%s is neither agegender CSV nor JSON Lines (a JSON array cannot be merged; use --jsonl or --csv)", p)
		}
		if format != "" && ff != format {
			return "", fmt.Errorf("%s is %s but %s is %s; shard outputs must share one format", p, ff, first, format)
		}
		format, first = ff, p
	}
	if format == "" {
		format = report.FormatJSONL
	}
	return format, nil
}

// openShard opens a shard output: a local file, or an object.
func openShard(rm *remote, p string) (io.ReadCloser, error) {
	if storage.IsURL(p) {
		r, err := storage.Open(rm.ctx, rm.bs, p)
		if err != nil {
			return nil, fmt.Errorf("shard output: %w", err)
		}
		return r, nil
	}
	local, err := storage.LocalPath(p)
	if err != nil {
		return nil, err
	}
	f, err := safeio.Open(local)
	if err != nil {
		return nil, fmt.Errorf("shard output: %w", err)
	}
	return safeio.NewIdleReadCloser(rm.ctx, f, safeio.DefaultIdle), nil
}
