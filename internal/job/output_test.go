package job

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A new file exists only once its run commits; an aborted run leaves
// nothing, and an existing file is refused without force.
func TestCreateCommitsOrLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	out, err := Create(ctx, nil, path, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("half a run\n"))
	if err := out.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("an aborted run left %v", entries)
	}
	out, err = Create(ctx, nil, path, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("a whole run\n"))
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the file is there before its run commits")
	}
	if err := out.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "a whole run\n" {
		t.Errorf("committed %q", got)
	}
	if _, err := Create(ctx, nil, path, false, nil, nil); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("an existing file without force: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
