package cli

import (
	"io"

	"github.com/agegender/agegender/internal/outfile"
	"github.com/agegender/agegender/internal/report"
)

// output is where results go: stdout, or a file written atomically.
type output struct {
	w      io.Writer
	file   *outfile.File
	format report.Format
}

// openOutput opens path ("-" for stdout) for format.
func openOutput(path string, format report.Format, force bool, stdout io.Writer) (*output, error) {
	if path == "-" || path == "" {
		return &output{w: stdout, format: format}, nil
	}
	f, err := outfile.Create(path, force)
	if err != nil {
		return nil, err
	}
	return &output{w: f, file: f, format: format}, nil
}

// finish commits a file output when the run succeeded and discards it
// otherwise, so a failed run leaves no partial file behind.
func (o *output) finish(ok bool) error {
	if o.file == nil {
		return nil
	}
	if !ok {
		o.file.Abort()
		return nil
	}
	return o.file.Commit()
}
