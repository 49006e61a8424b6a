package cli

import (
	"errors"
	"fmt"
	"io"

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
// put together (its own newlines are the only ones kept).
func printError(w io.Writer, prefix string, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printError(w, prefix, e)
		}
		return
	}
	printLine(w, "%s%v", prefix, err)
}
