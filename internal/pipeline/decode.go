package pipeline

import (
	"context"
	"fmt"
	"image"
	"io/fs"
	"os"
	"syscall"

	"github.com/agegender/agegender/internal/preprocess"
)

// decode reads and decodes one input. Between the header and the pixels it
// calls reserve with the header, to hold the memory decoding will take; the
// release it returns is handed back with the image (and called here on
// failure).
func decode(ctx context.Context, in Input, lim preprocess.Limits, reserve func(preprocess.Header) (func(), error)) (*image.NRGBA, func(), error) {
	if in.Err != nil {
		return nil, nil, in.Err
	}
	rc, err := in.Open()
	if err != nil {
		return nil, nil, describe(in.Name, err)
	}
	data, err := preprocess.ReadAll(rc, in.Name, lim)
	if cerr := rc.Close(); cerr != nil && err == nil {
		err = describe(in.Name, cerr)
	}
	if err != nil {
		return nil, nil, err
	}
	h, err := preprocess.ReadHeader(data, in.Name, lim)
	if err != nil {
		return nil, nil, err
	}
	release, err := reserve(h)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s declares %dx%d: %w", in.Name, h.Format, h.Width, h.Height, err)
	}
	// A cancelled run stops mid-decode, so that Ctrl-C acts at once.
	dec, err := h.DecodeContext(ctx, data, in.Name)
	if err != nil {
		release()
		return nil, nil, err
	}
	return preprocess.NRGBA(dec.Image), release, nil
}

// openRegular opens path for reading only if it is a regular file. A FIFO
// named a.jpg would block the open (and the run) forever, and opening a
// device can have effects of its own, so anything else is refused from its
// stat, before it is opened. The open is non-blocking and checked again, in
// case the path was swapped for a FIFO in between.
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = regular(st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// regular says what a non-regular file is, in the words ls would use.
func regular(m fs.FileMode) error {
	kind := ""
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	default:
		kind = "not a regular file"
	}
	return fmt.Errorf("not a regular file: %s", kind)
}
