package eval

import (
	"context"
	"iter"
	"sync/atomic"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/pipeline"
)

// Run scores inputs as batch runs them: each goes through est, and the
// largest face of each is compared with its label (labels). Files outside
// split are skipped before they are decoded and counted in
// Summary.Excluded; inputs that failed before that (a missing path) are
// kept, so that they are reported. done is called once per input scored
// and may be nil. The summary's engine fields are the caller's to fill.
func Run(ctx context.Context, inputs iter.Seq[input.Input], est face.Estimator, labels func(input string) (Label, bool),
	split Split, opts pipeline.Options, done func()) (Summary, []Point, error) {
	// The listing is read on a goroutine of the pipeline's own.
	var excluded atomic.Int64
	kept := func(yield func(input.Input) bool) {
		for in := range inputs {
			if in.Err == nil && !split.Keep(in.Name) {
				excluded.Add(1)
				continue
			}
			if !yield(in) {
				return
			}
		}
	}
	sc := newScorer()
	_, err := pipeline.Run(ctx, kept, est, func(r pipeline.Result) error {
		l, ok := labels(r.Input)
		sc.Add(r.Image, l, ok)
		if done != nil {
			done()
		}
		return nil
	}, opts)
	if err != nil {
		return Summary{}, nil, err
	}
	sum := sc.Summary()
	sum.Split, sum.Excluded = string(split), int(excluded.Load())
	return sum, sc.Points(), nil
}
