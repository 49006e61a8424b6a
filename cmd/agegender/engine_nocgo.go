//go:build !cgo

package main

import (
	"errors"

	"github.com/agegender/agegender/internal/cli"
)

// openEngine stands in for ONNX Runtime, which is a C library: without cgo
// the commands still parse and check their flags, then stop here.
func openEngine(cli.EngineConfig) (cli.Engine, error) {
	return nil, errors.New("this agegender was built without cgo, so it cannot load ONNX Runtime: " +
		"rebuild it with CGO_ENABLED=1 and a C compiler (`make build`)")
}
