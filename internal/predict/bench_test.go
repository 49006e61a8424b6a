package predict_test

import (
	"fmt"
	"testing"

	"github.com/agegender/agegender/internal/result"
)

// BenchmarkModelPerFace reports the age/gender model's cost per face on one
// intra-op thread (the setting workers run with), alone and in batches of 8.
func BenchmarkModelPerFace(b *testing.B) {
	e := newEngine(b, result.DetectOff)
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			data := make([]float32, n*e.Spec().Len())
			for i := range data {
				data[i] = float32(i%255)/127.5 - 1
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := e.RunTensor(data, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*n), "ms/face")
		})
	}
}
