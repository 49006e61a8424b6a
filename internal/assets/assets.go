// Package assets finds the native pieces agegender loads at run time: the
// ONNX Runtime shared library. It is fetched by `make setup`, never
// committed, so a missing one must produce an error that tells the user how
// to get it.
package assets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/safeio"
)

// Asset names one file and where to look for it.
type Asset struct {
	What   string // for error messages
	EnvVar string
	Flag   string // the command-line flag that names it
	// Names are file names tried next to the executable, in its lib/ or
	// models/ folder (release archives) and in the setup folder .deps/<SetupDir>.
	Names    []string
	SetupDir string
}

var (
	// ORTLibrary is the ONNX Runtime shared library.
	ORTLibrary = Asset{What: "ONNX Runtime library", EnvVar: "AGEGENDER_ORT_LIB",
		Flag: "--ort-lib", Names: []string{"libonnxruntime.so.1", "libonnxruntime.so"}, SetupDir: "lib"}
)

// setupCommand is what to run when a piece is missing.
const setupCommand = "make setup"

// Find returns the absolute path of a, trying in order: the flag value, the
// environment variable, the executable's folder (and its lib/ and models/),
// then the setup folder .deps/ above the executable or the working directory.
func (a Asset) Find(flagValue string) (string, error) {
	if flagValue != "" {
		return existing(flagValue, a.What, a.Flag)
	}
	if v := os.Getenv(a.EnvVar); v != "" {
		return existing(v, a.What, "$"+a.EnvVar)
	}
	var tried []string
	for _, dir := range a.searchDirs() {
		for _, name := range a.Names {
			p := filepath.Join(dir, name)
			tried = append(tried, p)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				// Found: checked as a named one is, rather than skipped,
				// since a FIFO or a link into /proc here is a setup to fix.
				return existing(p, a.What, "the search path")
			}
		}
	}
	return "", fmt.Errorf("%s not found (tried %s); run `%s` in the agegender source folder, or pass its path with %s or $%s",
		a.What, strings.Join(tried, ", "), setupCommand, a.Flag, a.EnvVar)
}

func (a Asset) searchDirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		d := filepath.Dir(exe)
		dirs = append(dirs, d, filepath.Join(d, "lib"), filepath.Join(d, "models"),
			filepath.Join(d, "..", ".deps", a.SetupDir))
	}
	// The working directory and its parents cover `go run` and `go test`,
	// whose binaries live in a temporary folder.
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, ".deps", a.SetupDir))
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
				break
			}
		}
	}
	return dirs
}

// maxLibraryBytes bounds the library's size: ONNX Runtime's CPU build is
// 46 MB, and loading a file maps all of it.
const maxLibraryBytes = 1 << 30

// existing checks that p is a regular file on a real file system, as an
// input is: loading a FIFO blocks forever and a device or a file of /proc
// has no business being loaded.
func existing(p, what, source string) (string, error) {
	st, err := safeio.Check(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s %s (from %s) does not exist; run `%s` or fix the path", what, p, source, setupCommand)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s %s (from %s): %w", what, p, source, err)
	}
	if st.Size() > maxLibraryBytes {
		return "", fmt.Errorf("%s %s (from %s): %s, over the %s limit", what, p, source, bytesize.Amount(st.Size()), bytesize.Limit(maxLibraryBytes))
	}
	return filepath.Abs(p)
}
