// Package testutil finds what the integration tests need: the native pieces
// fetched by `make setup`, and the shared data sets. When something is missing
// a test skips with a message saying how to get it, except that with
// AGEGENDER_REQUIRE_ORT=1 (set by scripts/test.sh, so CI) a missing ONNX
// Runtime fails the test instead of skipping it silently.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agegender/agegender/internal/assets"
)

func need(t testing.TB, a assets.Asset) string {
	t.Helper()
	p, err := a.Find("")
	if err != nil {
		if os.Getenv("AGEGENDER_REQUIRE_ORT") == "1" {
			t.Fatalf("%v", err)
		}
		t.Skipf("SKIP: %v", err)
	}
	return p
}

// ORTLibrary returns the ONNX Runtime library path.
func ORTLibrary(t testing.TB) string { return need(t, assets.ORTLibrary) }

// RepoRoot is the folder holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatal("go.mod not found above the test's folder")
		}
	}
}

// SharedData returns ../shared/data/<sub> beside the repository, or skips
// the test when it is absent (a fresh clone elsewhere does not have it).
func SharedData(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "data", sub)
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Skipf("SKIP: %s is absent; this test needs the shared data sets (../shared/data beside the repository)", p)
	}
	return p
}

// SharedModel returns a third-party model under ../shared/models (sub is its
// path there), skipping the test when the shared folder or the file is absent.
func SharedModel(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "models", sub)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Skipf("SKIP: %s is absent; this test needs the shared detectors (../shared/models beside the repository)", p)
	}
	return p
}
