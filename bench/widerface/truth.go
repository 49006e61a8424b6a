package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	result "github.com/agegender/agegender/internal/face"
)

// truth is one annotated face of a photo.
type truth struct {
	box     result.Box
	invalid bool
	gender  string // Male, Female or "" (not labelled / not sure)
	age     string // perceived age group or ""
}

// ageGroups are the perceived age groups of demographics.csv, youngest
// first.
var ageGroups = []string{"Young Adult", "Adult", "Middle age", "Senior"}

// readTruth parses boxes.txt and joins demographics.csv onto its boxes.
func readTruth(root string) ([]string, map[string][]truth, error) {
	f, err := os.Open(filepath.Join(root, "boxes.txt"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var photos []string
	gt := map[string][]truth{}
	line := func() (string, error) {
		if !sc.Scan() {
			return "", io.ErrUnexpectedEOF
		}
		return strings.TrimSpace(sc.Text()), nil
	}
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		l, err := line()
		if err != nil {
			return nil, nil, err
		}
		n, err := strconv.Atoi(l)
		if err != nil {
			return nil, nil, fmt.Errorf("boxes.txt: count for %s: %w", name, err)
		}
		var boxes []truth
		for k := 0; k < n; k++ {
			l, err := line()
			if err != nil {
				return nil, nil, err
			}
			var x, y, w, h float64
			var inv int
			if _, err := fmt.Sscan(l, &x, &y, &w, &h, &inv); err != nil {
				return nil, nil, fmt.Errorf("boxes.txt: %s box %d: %w", name, k, err)
			}
			boxes = append(boxes, truth{box: result.Box{X: x, Y: y, W: w, H: h}, invalid: inv == 1})
		}
		if n == 0 {
			line() // WIDER writes a dummy box line for photos without faces
		}
		photos = append(photos, name)
		gt[name] = boxes
	}
	df, err := os.Open(filepath.Join(root, "demographics.csv"))
	if err != nil {
		return nil, nil, err
	}
	defer df.Close()
	rows, err := csv.NewReader(df).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("demographics.csv: %w", err)
	}
	for _, r := range rows[1:] {
		k, err := strconv.Atoi(r[1])
		if err != nil || k >= len(gt[r[0]]) {
			continue
		}
		t := &gt[r[0]][k]
		if r[2] == "Male" || r[2] == "Female" {
			t.gender = r[2]
		}
		for _, g := range ageGroups {
			if r[3] == g {
				t.age = g
			}
		}
	}
	return photos, gt, nil
}
