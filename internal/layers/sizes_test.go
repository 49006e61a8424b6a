package layers

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Size bounds for code a person reads (issue 21): a function longer than a
// screenful or a file longer than a sitting is a sign of two jobs in one.
// Tests are exempt: their tables are long on purpose.
const (
	maxFuncLines = 80
	maxFileLines = 400
	// maxCLILines bounds internal/cli, which only parses flags and wires
	// packages together; batch logic belongs in internal/job.
	maxCLILines = 1200
)

// roots are the folders held to the bounds, relative to the module root.
var roots = []string{"cmd", "internal", "bench", "training"}

func TestSizes(t *testing.T) {
	root := filepath.Join("..", "..")
	cliLines := 0
	for _, r := range roots {
		err := filepath.WalkDir(filepath.Join(root, r), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				// Caches, virtual environments and the like are not ours.
				if strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__" {
					return filepath.SkipDir
				}
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			switch {
			case strings.HasSuffix(path, "_test.go"), strings.HasSuffix(path, "_test.py"):
				return nil
			case strings.HasSuffix(path, ".go"):
				n := checkGo(t, rel, path)
				if filepath.Dir(rel) == filepath.Join("internal", "cli") {
					cliLines += n
				}
			case strings.HasSuffix(path, ".py"):
				checkPython(t, rel, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if cliLines > maxCLILines {
		t.Errorf("internal/cli has %d non-test lines, over %d: batch logic belongs in internal/job", cliLines, maxCLILines)
	}
}

// checkGo reports a Go file over maxFileLines or with a function over
// maxFuncLines, and returns its line count.
func checkGo(t *testing.T, rel, path string) int {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	lines := fset.File(f.Pos()).LineCount()
	if lines > maxFileLines {
		t.Errorf("%s: %d lines, over %d", rel, lines, maxFileLines)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok {
			return true
		}
		if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > maxFuncLines {
			t.Errorf("%s: func %s is %d lines, over %d", rel, fn.Name.Name, n, maxFuncLines)
		}
		return false
	})
	return lines
}

// checkPython does the same for a Python file; a def ends where the next
// non-blank line at its indent or less begins.
func checkPython(t *testing.T, rel, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > maxFileLines {
		t.Errorf("%s: %d lines, over %d", rel, len(lines), maxFileLines)
	}
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }
	for i, l := range lines {
		body := strings.TrimSpace(l)
		if !strings.HasPrefix(body, "def ") {
			continue
		}
		end, in := i+1, indent(l)
		for j := i + 1; j < len(lines); j++ {
			s := strings.TrimSpace(lines[j])
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if indent(lines[j]) <= in && !strings.HasPrefix(s, ")") {
				break
			}
			end = j + 1
		}
		if n := end - i; n > maxFuncLines {
			name, _, _ := strings.Cut(strings.TrimPrefix(body, "def "), "(")
			t.Errorf("%s:%d: def %s is %d lines, over %d", rel, i+1, name, n, maxFuncLines)
		}
	}
}
