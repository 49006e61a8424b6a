package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/agegender/agegender/internal/job"
	"github.com/agegender/agegender/internal/report"
)

// Exit codes, documented in the README.
const (
	exitOK = 0
	// exitError is a usage or setup error: nothing, or not everything, ran.
	exitError = 1
	// exitSomeFailed means the run finished but some inputs failed; each has
	// its own error row in the output.
	exitSomeFailed = 2
)

// errSomeFailed ends a run whose failures were already reported per input.
var errSomeFailed = errors.New("some inputs failed")

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitCode maps a command's error to the process exit code.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errSomeFailed):
		return exitSomeFailed
	default:
		return exitError
	}
}

// printLine writes one line to a terminal or stderr with its control
// characters escaped (report.Terminal): the messages name files, and a name
// could otherwise act on the terminal or print a second, fake line.
func printLine(w io.Writer, format string, a ...any) {
	fmt.Fprintln(w, report.Terminal(fmt.Sprintf(format, a...)))
}

// printError writes err after prefix, a line for each error errors.Join
// put together (its own newlines are the only ones kept), each worded.
func printError(w io.Writer, prefix string, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printError(w, prefix, e)
		}
		return
	}
	printLine(w, "%s%v", prefix, worded(err))
}

// worded gives an error of job's (job/errors.go) the words of the flags
// that remedy it; the cause it carries stays wrapped.
func worded(err error) error {
	switch e := err.(type) {
	case *job.ExistsError:
		return fmt.Errorf("output %s already exists; pass --force to overwrite it", e.Path)
	case *job.CreatedMeanwhileError:
		return fmt.Errorf("output %s was created by something else during the run and is kept (no --force)", e.Path)
	case *job.NotAppendableError:
		return errors.New("--resume needs an output file: --jsonl FILE or --csv FILE (a JSON array cannot be appended to)")
	case *job.ResumeError:
		if e.Refused {
			return fmt.Errorf("--resume %w; it is left as it is", e.Err)
		}
		return fmt.Errorf("--resume %s: %w", e.Path, e.Err)
	case *job.InterruptedError:
		return fmt.Errorf("interrupted; %s holds every input finished so far, and the same command with --resume does the rest", e.Output)
	case *job.UnfinishedShardError:
		return fmt.Errorf("%s has no rows next in any shard output: its shard did not finish (run it again with --resume), or the inputs after -- differ from the batch's; the next rows are %s", e.Input, e.Heads)
	case *job.TornShardError:
		return fmt.Errorf("%s: %w: its shard was killed; run it again with --resume", e.Shard, e.Err)
	case *job.UnmergeableError:
		return fmt.Errorf("%v (a JSON array cannot be merged; use --jsonl or --csv)", e)
	}
	return err
}
