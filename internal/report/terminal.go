package report

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Terminal escapes what a terminal would act on rather than show, so that a
// file name cannot clear the screen, set the window title, hide itself
// behind a bidi override or print a second, fake row: C0 and C1 controls,
// DEL, bidi controls, the Unicode line and paragraph separators, and bytes
// that are not UTF-8 (a lone 0x9b is CSI to an 8-bit terminal). They are
// written as Go escapes (\n, \x1b, \u202e), which are ASCII and unlike
// anything a terminal acts on. Backslashes are left alone: a name that holds
// a literal "\n" reads the same as one with a newline, but cannot act.
// JSON and CSV have escapes of their own and do not use this.
func Terminal(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f || escaped(r) {
			return true
		}
		i += size
	}
	return false
}

// escaped are the runes above ASCII that Terminal escapes.
func escaped(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || isBidi(r) || r == '\u2028' || r == '\u2029'
}

// isBidi reports the bidi control characters: marks, embeddings, overrides
// and isolates, which reorder the text around them on screen.
func isBidi(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
