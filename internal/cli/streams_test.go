package cli

import "bytes"

// testStreams returns streams over buffers, none of them a terminal.
func testStreams(stdin string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	noEnv := func(string) string { return "" }
	return &IOStreams{In: bytes.NewBufferString(stdin), Out: out, ErrOut: errOut, Getenv: noEnv}, out, errOut
}
