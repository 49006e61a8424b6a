package iostreams

import (
	"bytes"
	"errors"
	"testing"
)

// failAfter fails every write after its first n bytes.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		return 0, errors.New("no space left on device")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestStickyOutRemembersTheFirstFailedWrite(t *testing.T) {
	ios, outErr := (&IOStreams{Out: &failAfter{n: 4}}).StickyOut()
	if _, err := ios.Out.Write([]byte("ok\n")); err != nil || outErr() != nil {
		t.Fatalf("a write that fit: %v, remembered %v", err, outErr())
	}
	ios.Out.Write([]byte("too long\n"))
	ios.Out.Write([]byte("x")) // fits again; the failure stays
	if err := outErr(); err == nil || err.Error() != "no space left on device" {
		t.Errorf("remembered %v", err)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	var b bytes.Buffer
	if bar := (&IOStreams{ErrOut: &b}).Progress(false); bar != nil {
		t.Error("a progress bar on a stderr that is not a terminal")
	}
	if bar := (&IOStreams{ErrOut: &b, ErrTTY: true}).Progress(true); bar != nil {
		t.Error("a progress bar with quiet")
	}
	if bar := (&IOStreams{ErrOut: &b, ErrTTY: true}).Progress(false); bar == nil {
		t.Error("no progress bar on a terminal")
	}
}
