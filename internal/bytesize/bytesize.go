// Package bytesize words byte counts for people and reads them from flags,
// so that a limit reads the same in a flag, an error row and an HTTP reply.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Limit words a limit in whole MB or KB when it is one, else in bytes, so that
// a small limit is not reported as "0 MB".
func Limit(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Amount words a measured size in MB (binary) with one decimal, or in bytes
// below 1 MB.
func Amount(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// Flag words n as a size flag would spell it, as Parse reads it: in the
// largest unit that divides it.
func Flag(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n != 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n != 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprint(n)
}

// Parse reads "20MB", "512KB", "1GB" or a plain byte count.
func Parse(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 20MB", s)
	}
	return n * mult, nil
}
