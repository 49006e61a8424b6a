package pipeline

import (
	"context"
	"fmt"
	"image"
	"io"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/preprocess"
	"github.com/agegender/agegender/internal/safeio"
)

// decode reads and decodes one input, holding from mem first the memory
// its bytes take, before it reads them, then what decoding takes (cost of
// its header); the release it returns is handed back with the image (and
// called here on failure).
func decode(ctx context.Context, in input.Input, lim preprocess.Limits, mem *workerMemory, cost func(preprocess.Header) int64) (*image.NRGBA, func(), error) {
	if in.Err != nil {
		return nil, nil, in.Err
	}
	data, h, release, err := readHeld(ctx, in, lim, mem, cost)
	if err != nil {
		return nil, nil, err
	}
	// A cancelled run stops mid-decode, so that Ctrl-C acts at once.
	img, err := h.DecodeNRGBA(ctx, data, in.Name)
	if err != nil {
		release()
		return nil, nil, err
	}
	return img, release, nil
}

// readHeld reads in's bytes and header, and holds the memory decoding
// will take. A worker that holds its file's bytes must not wait for more:
// two doing so could each wait for the other. When the rest is not free at
// once it lets go of all, waits for the whole, and reads the file again;
// only an input that can be read once (stdin, one at most) is kept while
// it waits, outside the budget.
func readHeld(ctx context.Context, in input.Input, lim preprocess.Limits, mem *workerMemory, cost func(preprocess.Header) int64) ([]byte, preprocess.Header, func(), error) {
	data, h, held, heldN, err := readReserved(ctx, in, lim, mem)
	if err != nil {
		return nil, h, nil, err
	}
	need := cost(h)
	if need <= heldN {
		return data, h, held, nil
	}
	if more, ok := mem.grow(need - heldN); ok {
		return data, h, func() { more(); held() }, nil
	}
	held()
	if !in.Once {
		data = nil
	}
	release, err := mem.wait(need)
	if err != nil {
		return nil, h, nil, fmt.Errorf("%s: %s declares %dx%d: %w", in.Name, h.Format, h.Width, h.Height, err)
	}
	if in.Once {
		return data, h, release, nil
	}
	data, h, again, _, err := readReserved(ctx, in, lim, nil)
	if err == nil && cost(h) > need {
		err = fmt.Errorf("%s: changed while being read: it now needs %s", in.Name, bytesize.Amount(cost(h)))
	}
	again()
	if err != nil {
		release()
		return nil, h, nil, err
	}
	return data, h, release, nil
}

// readReserved opens in, holds from mem (unless nil) the memory for its
// bytes before it reads them: its size, or three times the most that may
// be read when the size is unknown (the buffer grows as it is read). It
// returns the bytes, their header, the release and the bytes held.
func readReserved(ctx context.Context, in input.Input, lim preprocess.Limits, mem *workerMemory) ([]byte, preprocess.Header, func(), int64, error) {
	var h preprocess.Header
	rc, err := in.Open()
	if err != nil {
		return nil, h, nil, 0, input.Describe(in.Name, err)
	}
	size, known := safeio.Size(rc)
	n := size
	if !known {
		size = -1
		if total := mem.total(); total > 0 {
			lim.MaxBytes = min(lim.Bytes(), total/3)
		}
		n = 3 * lim.Bytes()
	} else if size > lim.Bytes() {
		rc.Close()
		return nil, h, nil, 0, fmt.Errorf("%s: file is over the %s limit", in.Name, bytesize.Limit(lim.Bytes()))
	}
	release := func() {}
	if mem != nil {
		if release, err = mem.wait(n); err != nil {
			rc.Close()
			return nil, h, nil, 0, fmt.Errorf("%s: %s to read it: %w", in.Name, bytesize.Amount(n), err)
		}
	}
	data, err := readBytes(ctx, in, rc, lim, size)
	if err == nil {
		h, err = preprocess.ReadHeader(data, in.Name, lim)
	}
	if err != nil {
		release()
		return nil, h, nil, 0, err
	}
	return data, h, release, n, nil
}

// readBytes reads rc whole, at most size bytes when size is known.
func readBytes(ctx context.Context, in input.Input, rc io.ReadCloser, lim preprocess.Limits, size int64) ([]byte, error) {
	// A read that blocks (a hung mount, a FUSE server, a pipe) fails after
	// the input's idle timeout, and at once when the run is interrupted.
	var r io.Reader = rc
	if in.Idle != 0 {
		r = safeio.NewIdleReader(ctx, rc, max(in.Idle, 0))
	}
	data, err := preprocess.ReadAllSized(r, in.Name, lim, size)
	if cerr := rc.Close(); cerr != nil && err == nil {
		err = input.Describe(in.Name, cerr)
	}
	return data, err
}
