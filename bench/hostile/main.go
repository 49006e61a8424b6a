// Command hostile writes the adversarial corpus of internal/testutil/hostile
// as files, or checks a batch run's JSON Lines against it:
//
//	go run ./bench/hostile -out DIR [-good 9900] [-copies 4] [-faces ../shared/data/utkface]
//	go run ./bench/hostile -check DIR -rows out.jsonl
//
// DIR gets the files, list.txt (the path list for `batch -`) and want.txt
// (line by line, a part of the error each input's row must carry, or "-"
// for success). -check prints inputs, rows, duplicates, missing and wrong
// rows, and exits 1 unless every input has exactly its expected row.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agegender/agegender/internal/testutil/hostile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("out", "", "write the corpus into this new folder")
	good := flag.Int("good", 9900, "good images")
	copies := flag.Int("copies", 4, "copies of each of the 33 hostile cases")
	faces := flag.String("faces", "", "folder of face crops for the good images to link to (default: generated patterns)")
	check := flag.String("check", "", "corpus folder to check -rows against")
	rows := flag.String("rows", "", "with -check: the JSON Lines of a batch run over the corpus")
	flag.Parse()
	switch {
	case *out != "":
		return write(*out, hostile.Options{Good: *good, Copies: *copies, Faces: *faces})
	case *check != "" && *rows != "":
		return checkRows(*check, *rows)
	}
	return errors.New("give -out DIR, or -check DIR -rows FILE")
}

func write(dir string, o hostile.Options) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	c, err := hostile.Write(dir, o)
	if err != nil {
		return err
	}
	var want strings.Builder
	nHostile := 0
	for _, k := range c.Cases {
		w := k.Want
		if w == "" {
			w = "-"
		}
		want.WriteString(w + "\n")
		if k.Hostile {
			nHostile++
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(c.List()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "want.txt"), []byte(want.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("%d inputs (%d hostile) in %s\n", len(c.Cases), nHostile, dir)
	return nil
}

// row is the part of a JSON Lines row the check reads.
type row struct {
	Input       string `json:"input"`
	InputBase64 string `json:"input_base64"`
	Error       string `json:"error"`
}

func checkRows(dir, rowsPath string) error {
	entries, err := lines(filepath.Join(dir, "list.txt"))
	if err != nil {
		return err
	}
	wants, err := lines(filepath.Join(dir, "want.txt"))
	if err != nil || len(wants) != len(entries) {
		return fmt.Errorf("want.txt does not match list.txt: %v", err)
	}
	got, n, err := readRows(rowsPath)
	if err != nil {
		return err
	}
	dups, missing, wrong := 0, 0, 0
	for i, e := range entries {
		rs := got[hostile.Case{Entry: e}.Input()]
		switch {
		case len(rs) == 0:
			missing++
			fmt.Printf("missing: %.80q\n", e)
			continue
		case len(rs) > 1:
			dups++
			fmt.Printf("duplicate (%d rows): %.80q\n", len(rs), e)
		}
		if w := wants[i]; (w == "-" && rs[0] != "") || (w != "-" && !strings.Contains(rs[0], w)) {
			wrong++
			fmt.Printf("wrong row: %.80q: error %.120q, want %q\n", e, rs[0], w)
		}
	}
	fmt.Printf("inputs %d\nrows %d\nduplicates %d\nmissing %d\nwrong %d\n", len(entries), n, dups, missing, wrong)
	if dups+missing+wrong > 0 || n != len(entries) {
		return errors.New("the run did not give every input exactly its expected row")
	}
	return nil
}

// readRows maps each input name (exact bytes) to the errors of its rows.
func readRows(path string) (map[string][]string, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	got := map[string][]string{}
	n := 0
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var r row
			if jerr := json.Unmarshal(line, &r); jerr != nil {
				return nil, 0, fmt.Errorf("%s: row %d: %w", path, n+1, jerr)
			}
			name := r.Input
			if r.InputBase64 != "" {
				raw, derr := base64.StdEncoding.DecodeString(r.InputBase64)
				if derr != nil {
					return nil, 0, fmt.Errorf("%s: row %d: input_base64: %w", path, n+1, derr)
				}
				name = string(raw)
			}
			got[name] = append(got[name], r.Error)
			n++
		}
		if errors.Is(err, io.EOF) {
			return got, n, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

func lines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}
