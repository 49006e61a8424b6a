package cli

import (
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/pflag"
)

// fullWriter fails every write, as /dev/full does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// A command whose standard output cannot be written exits 1 and says so:
// `version > /dev/full` exited 0.
func TestStdoutWriteErrorExitsOne(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"version", "--json"}, {"--help"}, {"batch", "--help"}} {
		ios, _, errOut := testStreams("")
		ios.Out = fullWriter{}
		var op fakeOpener
		if code := Main(args, ios, op.open, ""); code != exitError || !strings.Contains(errOut.String(), "no space left on device") {
			t.Errorf("%v to a full stdout: exit %d, stderr %q; want 1 naming the error", args, code, errOut)
		}
	}
}

// No flag's help names its argument from a backtick in the usage (pflag
// takes `text` as the argument's name): --min-score showed "agegender version".
func TestFlagHelpHasNoBacktickNames(t *testing.T) {
	ios, _, _ := testStreams("")
	var op fakeOpener
	root := newRoot(ios, op.open, "")
	for _, c := range append(root.Commands(), root) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if name, _ := pflag.UnquoteUsage(f); strings.Contains(f.Usage, "`") {
				t.Errorf("%s --%s: usage has a backtick; its argument shows as %q", c.Name(), f.Name, name)
			}
		})
	}
}
