package bytesize

import (
	"fmt"
	"testing"
)

func TestLimit(t *testing.T) {
	for n, want := range map[int64]string{20 << 20: "20 MB", 1 << 10: "1 KB", 1500: "1500 bytes", 3<<20 + 1: fmt.Sprint(3<<20+1) + " bytes"} {
		if got := Limit(n); got != want {
			t.Errorf("Limit(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFlagSpellsTheLargestUnit(t *testing.T) {
	for n, want := range map[int64]string{1 << 30: "1GB", 384 << 20: "384MB", 512 << 10: "512KB", 12345: "12345", 0: "0"} {
		if got := Flag(n); got != want {
			t.Errorf("Flag(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseFlagRoundTrip(t *testing.T) {
	for _, n := range []int64{384 << 20, 1 << 30, 12345} {
		if got, err := Parse(Flag(n)); err != nil || got != n {
			t.Errorf("Parse(Flag(%d)) = %d, %v", n, got, err)
		}
	}
	for s, want := range map[string]int64{"512KB": 512 << 10, " 2 gb": 2 << 30, "7B": 7} {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1MB", "MB", "1.5MB"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}
