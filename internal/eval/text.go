package eval

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/agegender/agegender/internal/report"
)

// textListLimit caps each list of failed, no-face and unlabelled inputs in
// the text summary, which is for reading; the JSON summary lists them all.
const textListLimit = 20

// WriteText renders s for a terminal: the metrics per group, the gender
// confusion matrix, the worst age errors and the inputs that were not scored.
func WriteText(w io.Writer, s Summary) error {
	var b bytes.Buffer
	c := s.Counts
	fmt.Fprintf(&b, "model %s", report.Terminal(orDash(s.Model)))
	if s.ModelVersion != "" {
		fmt.Fprintf(&b, " %s", s.ModelVersion)
	}
	fmt.Fprintf(&b, ", detect %s, split %s", orDash(s.Detect), orDash(s.Split))
	if s.Excluded > 0 {
		fmt.Fprintf(&b, " (%d files outside it skipped)", s.Excluded)
	}
	fmt.Fprintf(&b, "\n%d inputs: %d scored, %d failed, %d unlabelled, %d without a face",
		c.Inputs, c.Scored, c.Failed, c.Unlabelled, c.NoFace)
	if c.MultiFace > 0 {
		fmt.Fprintf(&b, "; %d scored with several faces (largest used)", c.MultiFace)
	}
	b.WriteString("\n\n")

	header := []string{"group", "n", "age_mae", "age_rmse", "within_5y", "age_bias", "gender_acc", "gender_ece"}
	// The interval's columns appear for a model that gives intervals.
	intervals := s.Overall.IntervalN > 0
	if intervals {
		header = append(header, "interval_cover", "interval_width")
	}
	rows := [][]string{metricsRow("all", s.Overall, intervals)}
	for _, g := range s.ByAge {
		rows = append(rows, metricsRow("age "+g.Name, g.Metrics, intervals))
	}
	for _, g := range s.ByRace {
		rows = append(rows, metricsRow(g.Name, g.Metrics, intervals))
	}
	for _, g := range s.AdultByRace {
		rows = append(rows, metricsRow(fmt.Sprintf("%s, %d+", g.Name, adultAge), g.Metrics, intervals))
	}
	if err := table(&b, header, rows); err != nil {
		return err
	}
	if len(s.AdultByRace) > 1 {
		fmt.Fprintf(&b, "age MAE spread across races, ages %d+: %s years\n", adultAge, num(s.AdultRaceMAESpread, 2))
	}

	cm := s.Overall.GenderConfusion
	b.WriteString("\ngender confusion (rows: true, columns: predicted)\n")
	if err := table(&b, []string{"", "Male", "Female"}, [][]string{
		{"Male", strconv.Itoa(cm.MaleAsMale), strconv.Itoa(cm.MaleAsFemale)},
		{"Female", strconv.Itoa(cm.FemaleAsMale), strconv.Itoa(cm.FemaleAsFemale)},
	}); err != nil {
		return err
	}

	if len(s.Worst) > 0 {
		fmt.Fprintf(&b, "\nlargest age errors\n")
		rows = rows[:0]
		for _, p := range s.Worst {
			rows = append(rows, []string{p.Input, num(p.TrueAge, 0), num(p.PredAge, 1), signed(p.AgeError(), 1), p.TrueGender, p.PredGender})
		}
		if err := table(&b, []string{"input", "true_age", "predicted", "error", "true_gender", "predicted_gender"}, rows); err != nil {
			return err
		}
	}

	failed := make([]string, len(s.Failed))
	for i, f := range s.Failed {
		failed[i] = f.Error
	}
	list(&b, "failed", failed)
	list(&b, "without a face", s.NoFace)
	list(&b, "unlabelled", s.Unlabelled)

	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func metricsRow(name string, m Metrics, intervals bool) []string {
	row := []string{name, "0", "-", "-", "-", "-", "-", "-"}
	if m.N > 0 {
		row = []string{name, strconv.Itoa(m.N), num(m.AgeMAE, 2), num(m.AgeRMSE, 2),
			pct(m.AgeWithin5), signed(m.AgeBias, 2), pct(m.GenderAccuracy), num(m.GenderECE, 3)}
	}
	switch {
	case !intervals:
	case m.IntervalN == 0:
		row = append(row, "-", "-")
	default:
		row = append(row, pct(m.IntervalCoverage), num(m.IntervalWidth, 1))
	}
	return row
}

// list prints at most textListLimit items; error texts already name their input.
func list(b *bytes.Buffer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d)\n", title, len(items))
	for i, it := range items {
		if i == textListLimit {
			fmt.Fprintf(b, "  ... and %d more (all are listed by --json)\n", len(items)-i)
			break
		}
		// Names in error texts could act on the terminal.
		fmt.Fprintf(b, "  %s\n", report.Terminal(it))
	}
}

// table renders plain aligned columns, text first and numbers right, in the
// non-terminal style of package report.
func table(w *bytes.Buffer, header []string, rows [][]string) error {
	numeric := make([]bool, len(header))
	for i := 1; i < len(numeric); i++ {
		numeric[i] = true
	}
	if err := report.Table(w, header, rows, numeric); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

func num(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }

// signed shows the sign of a bias or error, and no sign on a rounded zero.
func signed(v float64, prec int) string {
	s := num(v, prec)
	switch {
	case strings.Trim(s, "-0.") == "":
		return strings.TrimPrefix(s, "-")
	case v > 0:
		return "+" + s
	}
	return s
}

func pct(v float64) string { return num(100*v, 1) + "%" }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
