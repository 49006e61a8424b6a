package eval

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"path/filepath"
)

// validationPercent is the share of files training holds out for validation.
const validationPercent = 15

// IsValidation reports whether a file belongs to the validation split, by
// the rule training/data.py uses: the first 8 hex digits of sha1(base file
// name) read as an integer, mod 100, below validationPercent. Hashing the base
// name keeps the split independent of folders and file order.
func IsValidation(name string) bool {
	sum := sha1.Sum([]byte(filepath.Base(name)))
	return binary.BigEndian.Uint32(sum[:4])%100 < validationPercent
}

// Split selects the files an evaluation keeps.
type Split string

// Splits, as --split spells them.
const (
	SplitAll   Split = "all"
	SplitVal   Split = "val"
	SplitTrain Split = "train"
)

// ParseSplit checks a --split value.
func ParseSplit(s string) (Split, error) {
	switch sp := Split(s); sp {
	case SplitAll, SplitVal, SplitTrain:
		return sp, nil
	}
	return "", fmt.Errorf("invalid split %q: want all, val or train", s)
}

// Keep reports whether the file named name is in the split.
func (s Split) Keep(name string) bool {
	switch s {
	case SplitVal:
		return IsValidation(name)
	case SplitTrain:
		return !IsValidation(name)
	}
	return true
}
