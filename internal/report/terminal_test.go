package report

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agegender/agegender/internal/face"
)

// lying are names that would act on a terminal or fake a row if printed raw.
var lying = []string{
	"nl\nfake.jpg",              // a second, fake row
	"cr\rfake.jpg",              // overwrites its own row
	"\x1b[2Jclear.png",          // clears the screen
	"\x1b]0;owned\x07title.png", // sets the window title
	"c1\u009b2Jcsi.png",         // C1 CSI, as a character
	"raw\x9b2Jcsi.png",          // C1 CSI, as a lone byte (not UTF-8)
	"bidi\u202egnp.exe",         // right-to-left override
	"iso\u2066late\u2069.png",   // bidi isolates
	"tab\there.png",             // breaks the columns
	"del\x7f.png",               // DEL
	"ls\u2028ps\u2029.png",      // line and paragraph separators
}

// Terminal escapes every control character, so that what reaches a
// terminal is one printable line per name.
func TestTerminalEscapes(t *testing.T) {
	for _, name := range lying {
		got := Terminal(name)
		if !utf8.ValidString(got) {
			t.Errorf("Terminal(%q) = %q: not UTF-8", name, got)
		}
		for _, r := range got {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidi(r) || r == '\u2028' || r == '\u2029' {
				t.Errorf("Terminal(%q) = %q keeps %U", name, got, r)
			}
		}
	}
	for in, want := range map[string]string{
		"nl\nfake.jpg": `nl\nfake.jpg`, "\x1b[2J": `\x1b[2J`, "raw\x9b": `raw\x9b`,
		"bidi\u202e": `bidi\u202e`, "c1\u009b": `c1\u009b`, "plain é 名前.jpg": "plain é 名前.jpg",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

// The table, on a terminal or not, holds one line per row whatever the
// names and errors say, with nothing a terminal would act on.
func TestTableEscapesNames(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		w, _ := New(FormatTable, &b, Options{TTY: tty})
		for _, name := range lying {
			w.Write(face.Image{Input: name, Err: errors.New(name + ": not a supported image")})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, bad := range []string{"\x1b", "\r", "\x07", "\x9b", "\u009b", "\u202e", "\u2066", "\t", "\x7f", "\u2028"} {
			if strings.Contains(out, bad) {
				t.Errorf("tty %v: table holds %q:\n%s", tty, bad, out)
			}
		}
		lines := strings.Count(out, "\n")
		want := len(lying) + 1 // header
		if tty {
			want += 3 // the borders: top, under the header, bottom
		}
		if lines != want {
			t.Errorf("tty %v: %d lines, want %d:\n%s", tty, lines, want, out)
		}
		if !strings.Contains(out, `nl\nfake.jpg`) {
			t.Errorf("tty %v: the newline is not shown escaped:\n%s", tty, out)
		}
	}
}

// JSON never writes -0: a box edge or an age a hair below zero is rounded
// to a zero that keeps its sign, which means nothing (CSV already drops it).
func TestJSONWritesNoNegativeZero(t *testing.T) {
	nz := math.Copysign(0, -1)
	im := face.Image{Input: "a.jpg", Faces: []face.Face{{
		Box: face.Box{X: nz, Y: nz, W: 10, H: 10}, Score: nz, Age: nz, GenderProbability: 0.5,
		Keypoints: []face.Point{{X: nz, Y: nz}},
	}}}
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		var b bytes.Buffer
		w, _ := New(f, &b, Options{})
		w.Write(im)
		w.Close()
		if strings.Contains(b.String(), "-0") {
			t.Errorf("%s: %s", f, b.String())
		}
	}
	if im.Faces[0].Age != 0 || !math.Signbit(im.Faces[0].Age) {
		t.Errorf("the caller's faces were changed")
	}
}
