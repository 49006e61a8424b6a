package eval

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	sc := handScorer()
	for i := range textListLimit + 5 {
		sc.Add(resultImage(fmt.Sprintf("u%02d.jpg", i)), Label{}, false)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, sc.Summary()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"33 inputs: 4 scored, 2 failed, 26 unlabelled, 1 without a face",
		"all", "5.50", "6.36", "50.0%", "+0.50",
		"age 0-9", "age 10-19", "age 60+", "White", "Asian",
		"c.jpg", "-10.0",
		"h.jpg: no such file",
		"... and 6 more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text summary lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space in %q", line)
		}
	}
}
