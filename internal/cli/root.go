// Package cli is the agegender command line: one file per command, each
// returning errors that Main alone turns into an exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/iostreams"
)

// Main runs the command line and returns the exit code. open starts the
// inference engine (cmd/agegender passes ONNX Runtime's); release is the
// release build's version, or empty.
func Main(args []string, ios *iostreams.IOStreams, open OpenEngine, release string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A write to standard output that failed (a full disk, /dev/full)
	// fails the run even where the command itself, or cobra's help, does
	// not look.
	ios, outErr := ios.StickyOut()
	root := newRoot(ios, open, release)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if werr := outErr(); werr != nil && (err == nil || errors.Is(err, errSomeFailed)) {
		err = fmt.Errorf("write standard output: %w", werr)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// The run's own error is only "context canceled"; say what happened.
		err = errors.New("interrupted; no output file was written")
	}
	if err != nil && !errors.Is(err, errSomeFailed) {
		printError(ios.ErrOut, "agegender: ", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(ios.ErrOut, "Run 'agegender %s --help' for usage.\n", commandName(root, args))
		}
	}
	return exitCode(err)
}

func commandName(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != root {
		return c.Name()
	}
	return ""
}

// newRoot builds the command tree; the commands that run the model start it
// with open.
func newRoot(ios *iostreams.IOStreams, open OpenEngine, release string) *cobra.Command {
	root := &cobra.Command{
		Use:   "agegender",
		Short: "Find every face in a photo and estimate its age and gender, on CPU",
		Long: `agegender finds every face in a photo and estimates its age and gender with
a small CNN on ONNX Runtime.

Exit codes: 0 all inputs succeeded, 2 some inputs failed (each has an error
row), 1 usage or setup error (eval has its own rules: see eval --help).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetIn(ios.In)
	// Flag mistakes are usage errors (exit 1) with a pointer to --help.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newCmdPredict(ios, open),
		newCmdBatch(ios, open),
		newCmdEval(ios, open),
		newCmdServe(ios, open),
		newCmdMerge(ios),
		newCmdVersion(ios, open, release),
	)
	return root
}

// Engine is the inference engine as the commands use it: internal/predict's
// in the binary, a fake in this package's tests.
type Engine interface {
	face.Estimator
	Info() face.EngineInfo
	Close() error
}

// OpenEngine starts an engine; reading its files stops when ctx ends
// (Ctrl-C). Commands call it after every flag is checked and the output is
// opened, so that a setup error leaves nothing behind; the caller closes the
// engine.
type OpenEngine func(ctx context.Context, c face.EngineConfig) (Engine, error)
