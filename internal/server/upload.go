package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/preprocess"
)

// upload is the image file of a request, read whole before any slot is
// taken, so that a slow client holds a connection and the bytes it sent, and
// nothing else.
type upload struct {
	name string
	data []byte
	// release gives back the memory reserved for data.
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
// deadline and the byte limit. Before it reads a byte of the body it
// reserves from the upload budget all the memory the body can take
// (uploadBudget.reserve), so that an upload holds all it needs or nothing.
// A declared Content-Length over the limit is refused before a byte of the
// body is read.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (up *upload, err error) {
	if r.ContentLength > s.cfg.MaxUpload {
		return nil, &uploadError{http.StatusRequestEntityTooLarge,
			fmt.Errorf("upload of %d bytes is over the %s limit", r.ContentLength, bytesize.Limit(s.cfg.MaxUpload))}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UploadTimeout)
	defer cancel()
	release, err := s.uploads.reserve(ctx, r.ContentLength, s.cfg.uploadQueueWait)
	if err != nil {
		s.discardBody(w, r)
		return nil, s.readError(err)
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	body := s.pace(w, r.Body, time.Now().Add(s.cfg.UploadTimeout))
	defer body.done(&up)
	r.Body = http.MaxBytesReader(w, body, s.cfg.MaxUpload)
	data, name, err := s.readFilePart(r)
	if err != nil {
		return nil, err
	}
	return &upload{name: name, data: data, release: release}, nil
}

// discardBody reads what is left of a refused upload's body into nothing,
// within the upload's deadlines (pace.go), unless the client waits for a
// 100 Continue before it sends it: a client that writes its whole body
// before it reads the answer, as most do, would otherwise have its write
// reset and never read the 429; 30 of 56 uploads refused in loadtest -mixed
// were lost so. It holds no memory beyond a copy buffer.
func (s *Server) discardBody(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Expect") != "" {
		return
	}
	var up *upload // nil: the body is not kept
	body := s.pace(w, r.Body, time.Now().Add(s.cfg.UploadTimeout))
	defer body.done(&up)
	io.Copy(io.Discard, io.LimitReader(body, s.cfg.MaxUpload))
}

// readFilePart reads r's field "file" into a buffer of the body's declared
// length (reserved by readUpload), then the rest of the body: a client that
// sends its whole form before it reads the answer (a field after "file")
// would otherwise have its connection reset and lose the answer.
func (s *Server) readFilePart(r *http.Request) ([]byte, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", &uploadError{http.StatusBadRequest,
			fmt.Errorf("expected a multipart/form-data upload with the image in field %q: %w", formField, err)}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", &uploadError{http.StatusBadRequest, fmt.Errorf("missing form field %q with the image", formField)}
		}
		if err != nil {
			return nil, "", s.readError(fmt.Errorf("malformed multipart upload: %w", err))
		}
		if part.FormName() != formField {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		data, err := preprocess.ReadAllSized(part, name, s.cfg.limits, r.ContentLength)
		part.Close()
		if err == nil {
			// Bounded by MaxBytesReader; what is left is form fields and
			// the closing boundary.
			_, err = io.Copy(io.Discard, r.Body)
		}
		if err != nil {
			return nil, "", s.readError(err)
		}
		return data, name, nil
	}
}

// readError gives a failed read of the body its status: 413 over the byte
// limit, 408 past the upload deadline or stalled, 429 past the large uploads
// in progress or when no memory for it came free in time, 503 when the
// server is stopping, 400 otherwise.
func (s *Server) readError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &uploadError{http.StatusRequestEntityTooLarge, fmt.Errorf("upload is over the %s limit", bytesize.Limit(mbe.Limit))}
	case errors.Is(err, errUploadStalled):
		return &uploadError{http.StatusRequestTimeout, err}
	case errors.Is(err, errShuttingDown):
		return &uploadError{http.StatusServiceUnavailable, err}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return &uploadError{http.StatusRequestTimeout,
			fmt.Errorf("upload not received within the %s limit: %w", s.cfg.UploadTimeout, err)}
	case errors.Is(err, context.Canceled):
		return &uploadError{http.StatusRequestTimeout, fmt.Errorf("upload abandoned: %w", err)}
	case errors.Is(err, errUploadsBusy), errors.Is(err, errUploadQueue):
		// 429, not 503: the server is well, other clients' uploads hold
		// the memory, and loadtest -mixed counts 5xx as failures.
		return &uploadError{http.StatusTooManyRequests, err}
	}
	return &uploadError{http.StatusBadRequest, err}
}

// retryable reports whether a failure's status asks the client to retry
// later, with a Retry-After header.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}
