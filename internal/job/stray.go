package job

import (
	"fmt"
	"iter"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/report"
)

// Merge and Resume hold the same rule: a file's records follow the input
// listing, one record per input, in its order. Merge checks shard outputs
// against the listing, Resume checks the file it appends to; both say what
// is wrong with a record that breaks the rule in the same words, here.

// strayRecord explains why rec, read from file, does not stand where it
// does: dupOf is the line of an earlier record in the same file for the same
// input (0 for none), want the key of the input the listing has there (""
// when the listing has ended), and rest the inputs the listing has after
// that one (read to the end only to tell "out of order" from "not in the
// listing"; nil to skip that).
func strayRecord(file string, rec report.Record, dupOf int, want string, format report.Format, rest iter.Seq[input.Input]) error {
	at := fmt.Sprintf("%s: line %d", file, rec.LineNo)
	if dupOf > 0 {
		return fmt.Errorf("%s: a second row for %q, whose first is on line %d (duplicated; each input has one record)", at, rec.Key, dupOf)
	}
	if want != "" && rest != nil {
		for in := range rest {
			if report.Key(format, in.Name) == rec.Key {
				return fmt.Errorf("%s: the row for %q is out of order: the listing has %q before it", at, rec.Key, want)
			}
		}
	}
	return fmt.Errorf("%s: a row for %q, which is not in the listing (another folder, a shard of another run, or a row written by hand)", at, rec.Key)
}
