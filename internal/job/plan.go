package job

import (
	"errors"
	"fmt"
	"io"

	"github.com/agegender/agegender/internal/report"
)

// plan is what a resumed run keeps of its file and what it does again.
type plan struct {
	// spec is the file's format, whose keys the listing is matched by.
	spec report.Spec
	// done are the file's records, in order, checked against the listing
	// before any input runs.
	done []doneRecord
	// redoLast is set when the last of done is done again
	// (report.Spec.PartialLast: CSV).
	redoLast bool
	// cut is where the kept records end, -1 for the whole file; the file
	// is cut there only once done has matched the listing, so that a
	// refused file is left as it is.
	cut int64
	// size is the file's size.
	size int64
	// notes are said once the file is accepted.
	notes []string
}

// doneRecord is what is kept of a record already in the file.
type doneRecord struct {
	key    string
	lineNo int
}

// readPlan reads the records of the file named path from r and plans what
// must be redone: a last record that a killed run cut short and, in a
// format whose last record may be partial (CSV), the last input's rows,
// since CSV cannot tell an input whose last faces were never written from
// one with fewer faces. The caller sets size.
func readPlan(r io.Reader, path string, format report.Format) (plan, error) {
	spec, err := report.Lookup(format)
	if err != nil {
		return plan{}, err
	}
	rr, err := report.NewRecordReader(format, r, path)
	if err != nil {
		return plan{}, err
	}
	p := plan{spec: spec, cut: -1}
	var last report.Record
	torn := false
	for {
		rec, err := rr.Next()
		var te *report.TornError
		if errors.As(err, &te) {
			p.cut, torn = te.At, true
			break
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return plan{}, &ResumeError{Path: path, Err: err, Refused: true}
		}
		p.done = append(p.done, doneRecord{rec.Key, rec.LineNo})
		last = rec
	}
	if torn {
		p.notes = append(p.notes, fmt.Sprintf("agegender: %s: the last row was cut short by a killed run; removed, its input is done again", path))
	}
	n, redone := len(p.done), ""
	if spec.PartialLast && n > 0 && !torn {
		// Its rows may lack faces the killed run never wrote.
		p.redoLast, p.cut = true, last.Start
		n--
		redone = fmt.Sprintf("; its last input (%s) is done again, since %s cannot show whether all its faces were written", last.Key, spec.Title)
	}
	if n > 0 || redone != "" {
		p.notes = append(p.notes, fmt.Sprintf("agegender: resuming %s: %d inputs already done%s", path, n, redone))
	}
	return p, nil
}

// kept is the size of the file once it is cut.
func (p plan) kept() int64 {
	if p.cut >= 0 && p.cut < p.size {
		return p.cut
	}
	return p.size
}

// dupOf is the line of an earlier record for the same input as done[i],
// 0 for none.
func (p plan) dupOf(i int) int {
	for _, e := range p.done[:i] {
		if e.key == p.done[i].key {
			return e.lineNo
		}
	}
	return 0
}
