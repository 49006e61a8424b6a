package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/agegender/agegender/internal/result"
)

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

func (t *tableWriter) Write(im result.Image) error {
	if t.closed {
		return errClosed
	}
	t.rows = append(t.rows, rows(im)...)
	return nil
}

// numeric marks the columns right-aligned so that decimals line up.
var numeric = [len(columns)]bool{1: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 10: true}

// Close renders into memory first: tablewriter does not report write errors,
// and a non-TTY table needs its trailing padding removed.
func (t *tableWriter) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true

	align := make([]tw.Align, len(columns))
	for i, n := range numeric {
		align[i] = tw.AlignLeft
		if n {
			align[i] = tw.AlignRight
		}
	}
	rendition := tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)}
	headerFormat := tw.On
	padding := tw.PaddingDefault
	if !t.tty {
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
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = c
	}
	table.Header(header...)
	if err := table.Bulk(t.rows); err != nil {
		return fmt.Errorf("build table: %w", err)
	}
	if err := table.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	t.rows = nil

	out := buf.Bytes()
	if !t.tty {
		out = trimLines(out)
	}
	if _, err := t.w.Write(out); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
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
