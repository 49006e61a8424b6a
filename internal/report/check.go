package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/agegender/agegender/internal/face"
)

// A record read back must be one our writers could have written: merge
// copies it into its output and --resume counts its input as done, so a row
// that only looks like ours (a bare {"input": ...}, a CSV face count of
// "one") would pass for a result that was never computed.

// jsonRecord is what a JSON Lines record must hold: the input, and a result
// (faces, maybe empty, and the detection mode; an error beside them).
type jsonRecord struct {
	Input       *string      `json:"input"`
	InputBase64 string       `json:"input_base64"`
	Detect      *face.Mode   `json:"detect"`
	Faces       *[]face.Face `json:"faces"`
	Error       string       `json:"error"`
}

// parseJSONRecord checks one JSON Lines record and returns its key.
func parseJSONRecord(line []byte) (string, error) {
	var v jsonRecord
	if err := json.Unmarshal(line, &v); err != nil {
		return "", fmt.Errorf("is not an agegender JSON Lines record (%v)", err)
	}
	switch {
	case v.Input == nil:
		return "", fmt.Errorf("is not an agegender JSON Lines record (no input field)")
	case v.Faces == nil || v.Detect == nil:
		return "", fmt.Errorf("is not a whole agegender record: it has no result (faces and detect)")
	}
	if v.InputBase64 != "" {
		return b64Key(v.InputBase64), nil
	}
	return *v.Input, nil
}

// checkCSVRow checks the cells of one CSV row: numbers where the writer puts
// numbers, true or false in detected, and either a face's cells all set or
// (an input with no face) all empty.
func checkCSVRow(row []string) error {
	faceCell, detected := row[1], row[2]
	if faceCell == "" {
		for i := 2; i < len(row)-1; i++ {
			if row[i] != "" {
				return fmt.Errorf("%s %q is set in a row with no face", columns[i], row[i])
			}
		}
		return nil
	}
	if n, err := strconv.Atoi(faceCell); err != nil || n < 0 {
		return fmt.Errorf("face %q is not a whole number", faceCell)
	}
	if detected != "true" && detected != "false" {
		return fmt.Errorf("detected %q is not true or false", detected)
	}
	for _, i := range numberColumns {
		if !isNumber(row[i]) {
			return fmt.Errorf("%s %q is not a number", columns[i], row[i])
		}
	}
	low, high := row[intervalColumns[0]], row[intervalColumns[1]]
	if (low == "") != (high == "") || (low != "" && !(isNumber(low) && isNumber(high))) {
		return fmt.Errorf("age_low %q and age_high %q are not both numbers or both empty", low, high)
	}
	return nil
}

func isNumber(cell string) bool {
	v, err := strconv.ParseFloat(cell, 64)
	return err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}
