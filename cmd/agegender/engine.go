package main

import (
	"context"
	"os"

	"github.com/agegender/agegender/internal/cli"
	"github.com/agegender/agegender/internal/predict"
)

// openEngine starts the engine the flags ask for. It is the only place the
// command line meets ORT, and the only place that reads $AGEGENDER_DETECTOR;
// in a build without cgo predict.New says how to get the real engine.
func openEngine(ctx context.Context, c cli.EngineConfig) (cli.Engine, error) {
	eng, err := predict.Open(ctx, predict.Config{
		ORTLibrary: c.ORTLibrary, Model: c.Model, Detector: c.Detector, DetectorFromEnv: os.Getenv(predict.DetectorEnv),
		Mode: c.Mode, Detect: c.Detect, Threads: c.Threads, IntervalLevel: c.IntervalLevel,
	})
	if err != nil {
		// A nil *Engine in a non-nil interface would look open to the caller.
		return nil, err
	}
	return eng, nil
}
