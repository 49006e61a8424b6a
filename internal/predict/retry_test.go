package predict

import "testing"

// The padded copy is charged on its long side, capped at paddedMaxSide
// before the margins: 1.6 times the side, squared, four bytes a pixel.
func TestPaddedCost(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want int64
	}{
		{200, 200, 4 * 320 * 320},
		{1000, 10, 4 * 1600 * 1600},
		{100000, 1, 10737418}, // 1638.4 px a side
		{3000, 4000, 10737418},
	} {
		if got := paddedCost(c.w, c.h); got != c.want {
			t.Errorf("paddedCost(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}
