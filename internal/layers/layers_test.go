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
}

func TestOnlyPredictLinksORT(t *testing.T) {
	args := []string{"list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}"}
	for _, p := range withoutORT {
		args = append(args, module+"internal/"+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		for _, d := range strings.Fields(deps) {
			if strings.Contains(d, "onnxruntime_go") || strings.HasPrefix(d, module+"internal/predict") {
				t.Errorf("%s depends on %s; only internal/predict may run ONNX Runtime (docs/ARCHITECTURE.md)", strings.TrimPrefix(pkg, module), d)
			}
		}
	}
}
