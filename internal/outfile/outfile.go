// Package outfile writes result files atomically: into a temporary file beside
// the target, moved into place only when everything was written, so a crash or
// an interrupt never leaves a half-written file. Without force the move cannot
// replace anything, not even a file that appeared while the run went on; a
// target that is not a regular file is never replaced by one.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// File is an output being written.
type File struct {
	*os.File
	target string
	force  bool
	// inPlace is set for a character device written directly (--force
	// --csv /dev/null): there is nothing to move into place.
	inPlace bool
	done    bool
}

// Create starts writing path. Without force, an existing path is an error.
// A folder, FIFO or socket is refused; a character device is written in
// place when forced.
func Create(path string, force bool) (*File, error) {
	if st, err := os.Stat(path); err == nil {
		switch mode := st.Mode(); {
		case mode.IsDir():
			return nil, fmt.Errorf("output %s is a folder", path)
		case !force:
			return nil, fmt.Errorf("output %s already exists; pass --force to overwrite it", path)
		case mode&fs.ModeCharDevice != 0:
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", path, err)
			}
			return &File{File: f, target: path, force: true, inPlace: true}, nil
		case !mode.IsRegular():
			return nil, fmt.Errorf("output %s is not a regular file (%v); it is never replaced", path, mode.Type())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("output %s: %w", path, err)
	} else if dest, lerr := os.Readlink(path); lerr == nil && !force {
		// A link whose target is missing: Stat says nothing is there, but
		// the final no-replace move finds the link and would blame the run.
		return nil, fmt.Errorf("output %s already exists: a symbolic link to %s, which does not exist; pass --force to replace the link", path, dest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	// CreateTemp makes the file private; results are ordinary files.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("create output %s: %w", path, err)
	}
	return &File{File: tmp, target: path, force: force}, nil
}

// tempPattern names the temporary files of path: hidden, beside it, so that
// the final move stays on one file system.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".*.tmp" }

// Stale lists the temporary files of path that are already there: left by a
// run that was killed (SIGKILL, a crash) before it could remove them, or
// being written by another run to the same target right now.
func Stale(path string) []string {
	// The name's own * ? [ \ are escaped, or a name with [ in it would be
	// read as a pattern and match nothing, or other files.
	base := globEscaper.Replace(filepath.Base(path))
	m, _ := filepath.Glob(filepath.Join(globEscaper.Replace(filepath.Dir(path)), "."+base+".*.tmp"))
	return m
}

var globEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`)

// Commit flushes the file to disk and moves it into place. Without force the
// move fails if the target exists by then, and the results are kept in the
// temporary file, which the error names.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if f.inPlace {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write output %s: %w", f.target, err)
		}
		return nil
	}
	err := errors.Join(f.Sync(), f.Close())
	if err == nil {
		err = f.move()
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("output %s was created by something else during the run and is kept (no --force); the results are in %s", f.target, f.Name())
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write output %s: %w", f.target, err)
	}
	return nil
}

// move puts the temporary file at the target. Without force it uses
// renameat2(RENAME_NOREPLACE), or where the file system lacks that, link(2)
// then unlink: both fail with EEXIST instead of replacing a file, so two runs
// to one target cannot both succeed. With force it renames over a regular
// file, but never over anything else.
func (f *File) move() error {
	if f.force {
		if st, err := os.Lstat(f.target); err == nil && !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("%s became a %v during the run; it is never replaced", f.target, st.Mode().Type())
		}
		return os.Rename(f.Name(), f.target)
	}
	err := unix.Renameat2(unix.AT_FDCWD, f.Name(), unix.AT_FDCWD, f.target, unix.RENAME_NOREPLACE)
	if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSYS) && !errors.Is(err, syscall.ENOTSUP) {
		return err // nil, or EEXIST, which errors.Is matches to fs.ErrExist
	}
	if err := os.Link(f.Name(), f.target); err != nil {
		return err
	}
	return os.Remove(f.Name())
}

// Abort discards the temporary file; the target is left as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	if !f.inPlace {
		os.Remove(f.Name())
	}
}

// folderMarker is the file that marks a folder agegender writes outputs
// into (--annotate's, eval --report's): folder walks skip a folder that holds it, so that a
// run over a folder with its annotations inside does not read its own
// copies back, this run or the next.
const folderMarker = ".agegender-output"

// AnnotatedSuffix ends the names of --annotate's copies. A walk whose root
// is itself a marked folder (--annotate given the input folder) is walked,
// since the user named it, but files with this suffix are skipped.
const AnnotatedSuffix = ".annotated.jpg"

// MarkFolder puts the marker file (.agegender-output) in dir, if it is not
// there.
func MarkFolder(dir string) error {
	p := filepath.Join(dir, folderMarker)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	note := "agegender writes its output here (annotated copies, an eval report); folder walks skip this folder while this file is in it.\n"
	if err := os.WriteFile(p, []byte(note), 0o644); err != nil {
		return fmt.Errorf("mark %s as an output folder: %w", dir, err)
	}
	return nil
}

// IsMarked reports whether dir holds the marker file MarkFolder puts there.
func IsMarked(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, folderMarker))
	return err == nil
}
