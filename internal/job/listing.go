package job

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/shard"
	"github.com/agegender/agegender/internal/storage"
)

// Listing is how batch lists its inputs (--ext, --null). merge lists the
// batch's arguments again through it, so that its input order is batch's by
// construction.
type Listing struct {
	// Exts are the extensions picked up in folders; empty means
	// input.DefaultExtensions.
	Exts []string
	// Null reads the paths on stdin NUL-separated instead of one per line.
	Null bool
}

// Inputs lists args as Args does, with stdin read as a list of paths.
func (l Listing) Inputs(ctx context.Context, bs *storage.Buckets, args []string, stdin io.Reader) (iter.Seq[input.Input], error) {
	exts := input.DefaultExtensions
	if len(l.Exts) > 0 {
		exts = input.NormalizeExtensions(l.Exts)
	}
	sep := byte('\n')
	if l.Null {
		sep = 0
	}
	return Args(ctx, bs, args, exts, input.ReadList(stdin, sep, exts))
}

// Args turns command-line arguments into inputs in the order given: each
// path is walked with exts, an s3:// or gs:// URL listed in bs (nil where the
// command reads no object storage), and "-" (allowed once) becomes stdin. Its
// errors are all mistakes in the arguments.
func Args(ctx context.Context, bs *storage.Buckets, given, exts []string, stdin iter.Seq[input.Input]) (iter.Seq[input.Input], error) {
	args := make([]string, len(given))
	dashes := 0
	for i, a := range given {
		if storage.IsURL(a) && bs == nil {
			return nil, fmt.Errorf("%s: only batch and merge read object storage", a)
		}
		local, err := storage.LocalPath(a)
		if err != nil {
			return nil, err
		}
		args[i] = local
		if local == "-" {
			dashes++
		}
	}
	if dashes > 1 {
		return nil, fmt.Errorf("'-' (stdin) can be given only once")
	}
	return func(yield func(input.Input) bool) {
		for _, a := range args {
			seq := stdin
			switch {
			case storage.IsURL(a):
				seq = storage.Inputs(ctx, bs, a, exts)
			case a != "-":
				seq = input.Walk([]string{a}, exts)
			}
			for in := range seq {
				if !yield(in) {
					return
				}
			}
		}
	}, nil
}

// InShard keeps the inputs of one shard.
func InShard(inputs iter.Seq[input.Input], s shard.Spec) iter.Seq[input.Input] {
	if s.Count <= 1 {
		return inputs
	}
	return func(yield func(input.Input) bool) {
		for in := range inputs {
			if s.Has(in.Rel) && !yield(in) {
				return
			}
		}
	}
}
