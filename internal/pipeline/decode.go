package pipeline

import (
	"context"
	"fmt"
	"image"
	"io"

	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/safeio"
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
	// A read that blocks (a hung mount, a FUSE server, a pipe) fails after
	// the input's idle timeout, and at once when the run is interrupted.
	var r io.Reader = rc
	if in.Idle != 0 {
		r = safeio.NewIdleReader(ctx, rc, max(in.Idle, 0))
	}
	data, err := preprocess.ReadAll(r, in.Name, lim)
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
