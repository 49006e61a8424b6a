package main

import (
	"context"
	"os"

	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/predict"
)

// openEngine starts the engine the flags ask for. It is the only place the
// command line meets ORT, and the only place that reads $AGEGENDER_DETECTOR;
// in a build without cgo predict.New says how to get the real engine.
func openEngine(ctx context.Context, c face.EngineConfig) (cli.Engine, error) {
	c.DetectorFromEnv = os.Getenv(predict.DetectorEnv)
	eng, err := predict.Open(ctx, c)
	if err != nil {
		// A nil *Engine in a non-nil interface would look open to the caller.
		return nil, err
	}
	return eng, nil
}
