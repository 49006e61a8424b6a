package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/preprocess"
)

// upload is the image file of a request, read whole before any slot is
// taken, so that a slow client holds a connection and the bytes it sent, and
// nothing else.
type upload struct {
	name string
	data []byte
	// release gives back the memory charged for data.
	release func()
}

// uploadError is a failed upload with the status that fits it.
type uploadError struct {
	status int
	err    error
}

func (e *uploadError) Error() string { return e.err.Error() }
func (e *uploadError) Unwrap() error { return e.err }

// readUpload reads the multipart field "file" of r, within the upload
// deadline and the byte limit, charging what it reads to mem. A declared
// Content-Length over the limit is refused before a byte of the body is read.
func (h *handler) readUpload(w http.ResponseWriter, r *http.Request, mem *budget.Budget) (up *upload, err error) {
	if r.ContentLength > h.cfg.MaxUpload {
		return nil, &uploadError{http.StatusRequestEntityTooLarge,
			fmt.Errorf("upload of %d bytes is over the %s limit", r.ContentLength, bytesize.Limit(h.cfg.MaxUpload))}
	}
	// The deadline applies to this request's body only. Once the body is in
	// it is lifted, because net/http cancels the request's context when a
	// read of the idle connection times out. When the upload failed it is
	// moved to now instead, because net/http drains what is left of a body
	// before closing, and would wait on the very client that stalled.
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(h.cfg.UploadTimeout)); err == nil {
		defer func() {
			if up != nil {
				rc.SetReadDeadline(time.Time{})
			} else {
				rc.SetReadDeadline(time.Now())
			}
		}()
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.UploadTimeout)
	defer cancel()
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUpload)

	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &uploadError{http.StatusBadRequest,
			fmt.Errorf("expected a multipart/form-data upload with the image in field %q: %w", formField, err)}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, &uploadError{http.StatusBadRequest, fmt.Errorf("missing form field %q with the image", formField)}
		}
		if err != nil {
			return nil, h.readError(fmt.Errorf("malformed multipart upload: %w", err))
		}
		if part.FormName() != formField {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		cr := &chargedReader{ctx: ctx, r: part, mem: mem}
		data, err := preprocess.ReadAll(cr, name, h.cfg.Limits)
		part.Close()
		if err != nil {
			cr.release()
			return nil, h.readError(err)
		}
		return &upload{name: name, data: data, release: cr.release}, nil
	}
}

// readError gives a failed read of the body its status: 413 over the byte
// limit, 408 past the upload deadline, 400 otherwise.
func (h *handler) readError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &uploadError{http.StatusRequestEntityTooLarge, fmt.Errorf("upload is over the %s limit", bytesize.Limit(mbe.Limit))}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return &uploadError{http.StatusRequestTimeout,
			fmt.Errorf("upload not received within the %s limit: %w", h.cfg.UploadTimeout, err)}
	case errors.Is(err, context.Canceled):
		return &uploadError{http.StatusRequestTimeout, fmt.Errorf("upload abandoned: %w", err)}
	}
	return &uploadError{http.StatusBadRequest, err}
}

// chargedReader charges mem for the bytes read through it, twice over,
// because io.ReadAll holds the old and the grown buffer at once while it
// grows. It charges in steps of at least chargeStep, and waits, within ctx,
// while the budget is spent, which slows the reading of uploads instead of
// letting them pile up in memory.
type chargedReader struct {
	ctx        context.Context
	r          io.Reader
	mem        *budget.Budget
	read, held int64
	releases   []func()
}

const chargeStep = 64 << 10

func (c *chargedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if need := 2 * c.read; need > c.held {
		step := max(need-c.held, chargeStep)
		rel, aerr := c.mem.Acquire(c.ctx, step)
		if aerr != nil {
			return n, fmt.Errorf("waiting for memory to hold the upload: %w", aerr)
		}
		c.held += step
		c.releases = append(c.releases, rel)
	}
	return n, err
}

func (c *chargedReader) release() {
	for _, r := range c.releases {
		r()
	}
	c.releases, c.held = nil, 0
}
