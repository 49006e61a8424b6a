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

// below is the "must not import" column of docs/ARCHITECTURE.md's table:
// none of these packages may come to depend, even through another, on a
// package listed for it, so that a move that breaks a floor without making
// a cycle still fails here. input lists the inputs for the pool and for
// object storage, so that storage no longer imports the pool; the server
// decodes through preprocess and sizes work by face.Estimator, not through
// the pool; job words nothing in flags, so it needs nothing of cli.
var below = map[string][]string{
	"face":       ours,
	"webui":      ours,
	"bytesize":   aboveLeaves,
	"budget":     aboveLeaves,
	"outfile":    aboveLeaves,
	"assets":     aboveLeaves,
	"shard":      aboveLeaves,
	"safeio":     aboveLeaves,
	"iostreams":  aboveLeaves,
	"preprocess": {"predict", "pipeline", "input", "report", "server", "job", "eval", "storage", "cli"},
	"report":     {"predict", "pipeline", "input", "server", "job", "eval", "storage", "cli"},
	"annotate":   {"predict", "pipeline", "input", "server", "job", "eval", "storage", "cli"},
	"input":      {"predict", "pipeline", "storage", "job", "report", "eval", "server", "cli"},
	"pipeline":   {"predict", "report", "storage", "job", "eval", "server", "cli"},
	"storage":    {"predict", "pipeline", "report", "job", "eval", "server", "cli"},
	"server":     {"predict", "pipeline", "input", "report", "storage", "job", "eval", "cli"},
	"eval":       {"predict", "server", "job", "storage", "cli"},
	"job":        {"predict", "server", "eval", "cli"},
	"predict":    {"pipeline", "input", "report", "server", "job", "eval", "storage", "cli"},
}

// ours is every package of the module under internal/ that holds code.
var ours = []string{
	"face", "webui", "bytesize", "budget", "outfile", "assets", "shard", "safeio", "iostreams",
	"preprocess", "report", "annotate", "input", "pipeline", "storage", "server", "eval", "job", "predict", "cli",
}

// aboveLeaves is what the leaf utilities may not import: the domain and
// everything built on it.
var aboveLeaves = []string{
	"face", "preprocess", "report", "annotate", "input", "pipeline", "storage", "server", "eval", "job", "predict", "cli",
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
