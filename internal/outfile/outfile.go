// Package outfile writes result files atomically: into a temporary file beside
// the target, renamed over it only when everything was written, so a crash or
// an interrupt never leaves a half-written file, and an existing file is only
// replaced when the user asked for it.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output being written.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing path. Without force, an existing path is an error.
func Create(path string, force bool) (*File, error) {
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("output %s is a folder", path)
		}
		if !force {
			return nil, fmt.Errorf("output %s already exists; pass --force to overwrite it", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	// CreateTemp makes the file private; results are ordinary files.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	return &File{File: tmp, target: path}, nil
}

// Commit flushes the file to disk and renames it into place.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	err := errors.Join(f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), f.target)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write output %s: %w", f.target, err)
	}
	return nil
}

// Abort discards the temporary file; the target is left as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}
