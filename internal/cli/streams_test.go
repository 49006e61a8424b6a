package cli

import (
	"bytes"

	"github.com/agegender/agegender/internal/iostreams"
)

// testStreams returns streams over buffers, none of them a terminal.
func testStreams(stdin string) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	noEnv := func(string) string { return "" }
	return &iostreams.IOStreams{In: bytes.NewBufferString(stdin), Out: out, ErrOut: errOut, Getenv: noEnv}, out, errOut
}
