package iostreams

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress returns a bar counting images on stderr, or nil when quiet or
// stderr is not a terminal (a log file would fill with redraws).
func (ios *IOStreams) Progress(quiet bool) *progressbar.ProgressBar {
	if quiet || !ios.ErrTTY {
		return nil
	}
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionSetDescription("images"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
