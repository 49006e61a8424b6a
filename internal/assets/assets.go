// Package assets finds the native pieces agegender loads at run time: the
// ONNX Runtime shared library. It is fetched by `make setup`, never
// committed, so a missing one must produce an error that tells the user how
// to get it.
package assets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// SetupCommand is what to run when a piece is missing.
const SetupCommand = "make setup"

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
				return filepath.Abs(p)
			}
		}
	}
	return "", fmt.Errorf("%s not found (tried %s); run `%s` in the agegender source folder, or pass its path with %s or $%s",
		a.What, strings.Join(tried, ", "), SetupCommand, a.Flag, a.EnvVar)
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

func existing(p, what, source string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s %s (from %s) does not exist; run `%s` or fix the path", what, p, source, SetupCommand)
		}
		return "", fmt.Errorf("%s %s: %w", what, p, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%s %s (from %s) is a folder, not a file", what, p, source)
	}
	return filepath.Abs(p)
}
