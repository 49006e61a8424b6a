//go:build cgo

package predict_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/models"
)

// BenchmarkModelPerFace reports each embedded preset's cost per face on one
// intra-op thread (the setting workers run with), alone and in batches of 8.
// AGEGENDER_BENCH_MODEL names another model file to measure beside them, in
// the same run, so that the models meet the same load:
//
//	AGEGENDER_BENCH_MODEL=out/agegender-v1.onnx go test -run '^$' -bench ModelPerFace ./internal/predict/
func BenchmarkModelPerFace(b *testing.B) {
	type model struct {
		name  string
		bytes []byte
	}
	var all []model
	for _, p := range models.Presets() {
		all = append(all, model{p.Name, p.Bytes()})
	}
	if path := os.Getenv("AGEGENDER_BENCH_MODEL"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatalf("AGEGENDER_BENCH_MODEL: %v", err)
		}
		all = append(all, model{filepath.Base(path), data})
	}
	for _, m := range all {
		b.Run(m.name, func(b *testing.B) {
			e := newEngineWith(b, face.DetectOff, m.bytes, m.name)
			for _, n := range []int{1, 8} {
				b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
					data := make([]float32, n*e.Spec().Len())
					for i := range data {
						data[i] = float32(i%255)/127.5 - 1
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := e.RunTensor(data, n); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*n), "ms/face")
				})
			}
		})
	}
}
