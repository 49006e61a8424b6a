package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/agegender/agegender/internal/outfile"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/storage"
)

// output is where results go: stdout, or a file written atomically.
type output struct {
	w      io.Writer
	file   *outfile.File
	object *spoolObject
	format report.Format
}

// openOutput opens path ("-" for stdout, or an s3:// or gs:// URL) for
// format. Temporary files of path that are already there are named on warn:
// a killed run left them, or another run is writing the same file, which
// will not both succeed.
func openOutput(rm *remote, path string, format report.Format, force bool, stdout, warn io.Writer) (*output, error) {
	if path == "-" || path == "" {
		return &output{w: stdout, format: format}, nil
	}
	if storage.IsURL(path) {
		if !force {
			// Checked now so as not to run for nothing; the upload checks
			// again (If-None-Match), for an object created meanwhile.
			exists, err := storage.Exists(rm.ctx, rm.bs, path)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", path, err)
			}
			if exists {
				return nil, fmt.Errorf("output %s already exists; pass --force to overwrite it", path)
			}
		}
		s, err := newSpool(rm, path, force)
		if err != nil {
			return nil, err
		}
		return &output{w: s.spool, object: s, format: format}, nil
	}
	path, err := storage.LocalPath(path)
	if err != nil {
		return nil, err
	}
	stale := outfile.Stale(path)
	f, err := outfile.Create(path, force)
	if err != nil {
		return nil, err
	}
	if len(stale) > 0 {
		printLine(warn, "agegender: warning: temporary files of %s from a killed or concurrent run: %s (delete them once no other run writes %s)",
			path, strings.Join(stale, " "), path)
	}
	return &output{w: f, file: f, format: format}, nil
}

// finish commits a file output when the run succeeded and discards it
// otherwise, so a failed run leaves no partial file behind.
func (o *output) finish(ok bool) error {
	if o.object != nil {
		defer o.object.discard()
		if !ok {
			return nil
		}
		return o.object.upload()
	}
	if o.file == nil {
		return nil
	}
	if !ok {
		o.file.Abort()
		return nil
	}
	return o.file.Commit()
}

// checkOutputFlags refuses an output path that starts with '-' (other than
// "-", stdout): pflag takes the word after --jsonl as its value even when it
// is the next flag, so `batch DIR --jsonl --quiet` wrote a file named
// "--quiet" and dropped --quiet. A file that really starts with '-' can be
// named ./-x. flags maps each flag's name to its value; empty values are unset.
func checkOutputFlags(flags ...[2]string) error {
	for _, f := range flags {
		name, v := f[0], f[1]
		if v != "-" && strings.HasPrefix(v, "-") {
			return usagef("--%s %q: an output path that starts with '-' looks like a flag; for a file of that name write ./%s", name, v, v)
		}
	}
	return nil
}
