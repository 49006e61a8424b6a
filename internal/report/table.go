package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/agegender/agegender/internal/face"
)

// tableFormat is written whole on Close and is not read back.
func tableFormat() Spec {
	return Spec{
		Name: FormatTable, Title: "table", Ext: ".txt",
		NewWriter: func(w io.Writer, opts Options) Writer { return newTableWriter(w, opts) },
	}
}

// tableWriter buffers rows because column widths depend on all of them.
type tableWriter struct {
	w      io.Writer
	tty    bool
	rows   [][]string
	closed bool
}

func newTableWriter(w io.Writer, opts Options) *tableWriter {
	return &tableWriter{w: w, tty: opts.TTY}
}

func (t *tableWriter) Write(im face.Image) error {
	if t.closed {
		return errClosed
	}
	t.rows = append(t.rows, rows(im)...)
	return nil
}

// numeric marks the columns right-aligned so that decimals line up.
var numeric = func() (n [len(columns)]bool) {
	n[1] = true
	for _, i := range append(numberColumns, intervalColumns...) {
		n[i] = true
	}
	return n
}()

// Close renders into memory first: tablewriter does not report write errors,
// and a non-TTY table needs its trailing padding removed.
func (t *tableWriter) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true

	out, err := layout(columns[:], t.rows, numeric[:], t.tty)
	if err != nil {
		return err
	}
	t.rows = nil
	if _, err := t.w.Write(out); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// Table writes rows under header as plain aligned columns (no borders, two
// spaces apart, numeric columns right-aligned): the non-terminal table style,
// for other packages' summaries.
func Table(w io.Writer, header []string, rows [][]string, numeric []bool) error {
	out, err := layout(header, rows, numeric, false)
	if err != nil {
		return err
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// layout lays out a table: boxed with upper-case headers on a terminal,
// borderless otherwise.
func layout(header []string, rows [][]string, numeric []bool, tty bool) ([]byte, error) {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(numeric) && numeric[i] {
			align[i] = tw.AlignRight
		}
	}
	rendition := tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)}
	headerFormat := tw.On
	padding := tw.PaddingDefault
	if !tty {
		// Two spaces between columns and none at the margin, like ls -l.
		padding = tw.Padding{Right: "  ", Overwrite: true}
		rendition = tw.Rendition{
			Borders: tw.BorderNone,
			Settings: tw.Settings{
				Separators: tw.SeparatorsNone,
				Lines:      tw.LinesNone,
			},
		}
		headerFormat = tw.Off
	}

	var buf bytes.Buffer
	table := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(rendition)),
		tablewriter.WithHeaderAutoFormat(headerFormat),
		tablewriter.WithPadding(padding),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
	)
	h := make([]any, len(header))
	for i, c := range header {
		h[i] = Terminal(c)
	}
	table.Header(h...)
	// A table is read by people, on a terminal or in a pager: every cell is
	// escaped, or a name could act on the terminal or fake a row.
	safe := make([][]string, len(rows))
	for i, r := range rows {
		safe[i] = make([]string, len(r))
		for j, c := range r {
			safe[i][j] = Terminal(c)
		}
	}
	if err := table.Bulk(safe); err != nil {
		return nil, fmt.Errorf("build table: %w", err)
	}
	if err := table.Render(); err != nil {
		return nil, fmt.Errorf("render table: %w", err)
	}
	if tty {
		return buf.Bytes(), nil
	}
	return trimLines(buf.Bytes()), nil
}

// trimLines drops trailing spaces, which the borderless table pads its last
// column with.
func trimLines(b []byte) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	out := make([]byte, 0, len(b))
	for _, l := range lines {
		body := bytes.TrimRight(bytes.TrimSuffix(l, []byte("\n")), " ")
		out = append(out, body...)
		if bytes.HasSuffix(l, []byte("\n")) {
			out = append(out, '\n')
		}
	}
	return out
}
