package eval

import "testing"

// The expected splits were computed with training/data.py's rule:
//
//	/usr/bin/python3 -c 'import hashlib; n="..."; print(int(hashlib.sha1(n.encode()).hexdigest()[:8], 16) % 100)'
//
// and include a name at 15, just outside the validation share.
func TestIsValidationMatchesTraining(t *testing.T) {
	cases := []struct {
		name string
		mod  int // sha1 mod 100, for the reader
		val  bool
	}{
		{"100_1_0_20170110183726390.jpg.chip.jpg", 98, false},
		{"101_1_2_20170105174739309.jpg.chip.jpg", 36, false},
		{"10_0_0_20161220222308131.jpg.chip.jpg", 15, false},
		{"10_0_0_20170103200329407.jpg.chip.jpg", 8, true},
		{"10_0_0_20170110220514186.jpg.chip.jpg", 7, true},
		{"10_0_0_20170110224757882.jpg.chip.jpg", 13, true},
		{"photo.jpg", 86, false},
		{"å.jpg", 54, false},
	}
	for _, c := range cases {
		if got := IsValidation(c.name); got != c.val {
			t.Errorf("IsValidation(%q) = %v, want %v (sha1 mod 100 = %d)", c.name, got, c.val, c.mod)
		}
		// The folder plays no part.
		if got := IsValidation("some/folder/" + c.name); got != c.val {
			t.Errorf("IsValidation(some/folder/%s) = %v, want %v", c.name, got, c.val)
		}
	}
}

func TestSplitKeep(t *testing.T) {
	val, train := "x/10_0_0_20170103200329407.jpg.chip.jpg", "x/photo.jpg"
	for _, c := range []struct {
		split      Split
		val, train bool
	}{
		{SplitAll, true, true},
		{SplitVal, true, false},
		{SplitTrain, false, true},
	} {
		if c.split.Keep(val) != c.val || c.split.Keep(train) != c.train {
			t.Errorf("%s: Keep(val)=%v Keep(train)=%v, want %v %v", c.split, c.split.Keep(val), c.split.Keep(train), c.val, c.train)
		}
	}
	if _, err := ParseSplit("validation"); err == nil {
		t.Error("ParseSplit(validation) succeeded, want an error")
	}
	if s, err := ParseSplit("val"); err != nil || s != SplitVal {
		t.Errorf("ParseSplit(val) = %q, %v", s, err)
	}
}
