package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// A release build's version (set by goreleaser through main.version) is
// what `version` prints first; a development build says the module's.
func TestVersionNamesTheRelease(t *testing.T) {
	op := &fakeOpener{}
	for _, c := range []struct{ release, want string }{
		{"1.4.0", "agegender 1.4.0"},
		{"", "agegender (devel)"},
	} {
		ios, out, _ := testStreams("")
		if code := Main([]string{"version"}, ios, op.open, c.release); code != 0 {
			t.Fatalf("release %q: exit %d", c.release, code)
		}
		if first, _, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(first, c.want) {
			t.Errorf("release %q: first line %q, want it to start with %q", c.release, first, c.want)
		}
	}
	ios, out, _ := testStreams("")
	if code := Main([]string{"version", "--json"}, ios, op.open, "1.4.0"); code != 0 {
		t.Fatalf("version --json: exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if v, _ := got["agegender"].(string); !strings.HasPrefix(v, "1.4.0") {
		t.Errorf("version --json: agegender is %q, want 1.4.0", v)
	}
}
