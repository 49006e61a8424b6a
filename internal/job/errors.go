package job

import (
	"fmt"
	"strings"

	"github.com/agegender/agegender/internal/report"
)

// The errors a user acts on by changing the command: job says what
// happened in its own terms, and the command words the remedy with its
// flags (internal/cli). They are returned as they are, or errors.Join'ed,
// never wrapped, so that the command finds them in place to word them.

// ExistsError is a new output that would replace one already there.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("output %s already exists; allow it to be overwritten", e.Path)
}

// CreatedMeanwhileError is a new object that something else created while
// the run went on; it is kept, and the run's output is not written.
type CreatedMeanwhileError struct{ Path string }

func (e *CreatedMeanwhileError) Error() string {
	return fmt.Sprintf("output %s was created by something else during the run and is kept (not allowed to be overwritten)", e.Path)
}

// NotAppendableError is an output a run cannot append to: stdout, or a
// format that cannot be appended to (report.Spec.Appendable).
type NotAppendableError struct {
	Path   string
	Format report.Format
}

func (e *NotAppendableError) Error() string {
	if IsStdout(e.Path) {
		return "only a file can be appended to, not standard output"
	}
	return fmt.Sprintf("%s cannot be appended to: %s is not a format that can be", e.Path, e.Format)
}

// ResumeError is an output to append to that could not be opened, read or
// cut, or whose records are not the listing's first inputs (Refused: the
// file is then left as it is, and Err names it).
type ResumeError struct {
	Path    string
	Err     error
	Refused bool
}

func (e *ResumeError) Error() string {
	if e.Refused {
		return fmt.Sprintf("resume: %v; it is left as it is", e.Err)
	}
	return fmt.Sprintf("resume %s: %v", e.Path, e.Err)
}

func (e *ResumeError) Unwrap() error { return e.Err }

// InterruptedError is a resumed run stopped before its end: Output holds
// every input finished so far, and resuming it again does the rest.
type InterruptedError struct{ Output string }

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted; %s holds every input finished so far, and resuming it does the rest", e.Output)
}

// UnfinishedShardError is an input that no shard output has next: its
// shard did not finish, or the listing is not the batch's. Heads says what
// each shard has next.
type UnfinishedShardError struct{ Input, Heads string }

func (e *UnfinishedShardError) Error() string {
	return fmt.Sprintf("%s has no rows next in any shard output: its shard did not finish, or the inputs differ from the batch's; the next rows are %s", e.Input, e.Heads)
}

// TornShardError is a shard output whose last record was cut short: its
// shard was killed.
type TornShardError struct {
	Shard string
	Err   error
}

func (e *TornShardError) Error() string {
	return fmt.Sprintf("%s: %v: its shard was killed; resume it", e.Shard, e.Err)
}

func (e *TornShardError) Unwrap() error { return e.Err }

// UnmergeableError is a shard output in no format that can be merged.
type UnmergeableError struct{ Path string }

func (e *UnmergeableError) Error() string {
	var titles []string
	for _, s := range report.Appendable() {
		titles = append(titles, s.Title)
	}
	return fmt.Sprintf("%s is neither agegender %s", e.Path, strings.Join(titles, " nor "))
}
