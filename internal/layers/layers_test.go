package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/agegender/agegender/"

// withoutORT are the packages that must not depend on the engine.
var withoutORT = []string{
	"face", "bytesize", "budget", "outfile", "assets", "preprocess",
	"report", "annotate", "eval", "pipeline", "server", "cli", "shard", "storage", "safeio", "job", "iostreams",
	"input",
}

// below keeps the floors of docs/ARCHITECTURE.md that a move can break
// without making a cycle: none of these packages may come to depend,
// even through another, on a package listed for it. input lists the
// inputs for the pool and for object storage, so that storage no longer
// imports the pool.
var below = map[string][]string{
	"input":   {"pipeline", "storage", "job", "report", "eval", "server", "predict", "cli"},
	"storage": {"pipeline", "job", "report", "predict", "cli"},
}

func TestOnlyPredictLinksORT(t *testing.T) {
	for pkg, deps := range depsOf(t, withoutORT) {
		for _, d := range deps {
			if strings.Contains(d, "onnxruntime_go") || strings.HasPrefix(d, module+"internal/predict") {
				t.Errorf("%s depends on %s; only internal/predict may run ONNX Runtime (docs/ARCHITECTURE.md)", pkg, d)
			}
		}
	}
}

func TestLowerPackagesDoNotImportUp(t *testing.T) {
	var pkgs []string
	for p := range below {
		pkgs = append(pkgs, p)
	}
	for pkg, deps := range depsOf(t, pkgs) {
		for _, d := range deps {
			for _, up := range below[pkg] {
				if d == module+"internal/"+up || strings.HasPrefix(d, module+"internal/"+up+"/") {
					t.Errorf("%s depends on %s, which sits above it (docs/ARCHITECTURE.md)", pkg, strings.TrimPrefix(d, module))
				}
			}
		}
	}
}

// depsOf maps each of pkgs (under internal/) to every package it depends
// on, directly or not; it skips the test where go list cannot run.
func depsOf(t *testing.T, pkgs []string) map[string][]string {
	t.Helper()
	args := []string{"list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}"}
	for _, p := range pkgs {
		args = append(args, module+"internal/"+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, ds, _ := strings.Cut(line, " ")
		deps[strings.TrimPrefix(pkg, module+"internal/")] = strings.Fields(ds)
	}
	return deps
}
