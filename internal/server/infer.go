package server

import (
	"context"
	"fmt"
	"image"
	"net/http"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
)

// analysis is what the work of one request produced.
type analysis struct {
	faces  []face.Face
	bounds image.Rectangle
	err    error
}

// analyse decodes up and estimates its faces in its own goroutine, and
// returns at the first of its result or the end of ctx. The goroutine owns
// release (the memory and the slot admit gave, and the upload's bytes) and
// calls it only when it is finished with them, so that work that outlives its
// request still counts against the limits. Between stages it checks ctx and
// stops; within the estimator's call, it stops where the estimator can.
//
// A large image's work runs at a lower CPU priority (lowerThreadPriority),
// so that crops sharing a core with it are answered first.
func (s *Server) analyse(ctx context.Context, hdr preprocess.Header, up *upload, large bool, release func()) analysis {
	done := make(chan analysis, 1) // buffered: the goroutine never blocks on an abandoned request
	go func() {
		defer release()
		if large {
			// Best effort: at the normal priority the large lane still bounds it.
			_ = lowerThreadPriority()
		}
		defer func() {
			// A panic here would kill the whole server, since net/http only
			// recovers panics on the handler's own goroutine.
			if p := recover(); p != nil {
				done <- analysis{err: fmt.Errorf("estimator panicked: %v", p)}
			}
		}()
		done <- s.run(ctx, hdr, up)
	}()
	select {
	case a := <-done:
		return a
	case <-ctx.Done():
		return analysis{err: fmt.Errorf("timed out after %s analysing the image: %w", s.cfg.Timeout, ctx.Err())}
	}
}

// analyseInBatch decodes up and has its faces estimated in a batch with
// other requests' images, returning at the first of its result or the end of
// ctx, and the time it waited for its batch. release (the image's memory)
// passes to the batcher with the image. Decoding runs on the request's
// goroutine without a CPU slot: it is Go code, which GOMAXPROCS bounds, and
// batched images are crop-sized (a 1280x960 JPEG decodes in about 20 ms).
func (s *Server) analyseInBatch(ctx context.Context, hdr preprocess.Header, up *upload, release func()) (analysis, time.Duration) {
	img, err := decodeUpload(ctx, hdr, up)
	if err != nil {
		release()
		return analysis{err: err}, 0
	}
	if err := ctx.Err(); err != nil {
		release()
		return analysis{err: err}, 0
	}
	submitted := time.Now()
	it, err := s.batch.submit(ctx, img, release)
	if err != nil {
		return analysis{err: err}, time.Since(submitted)
	}
	select {
	case r := <-it.done:
		return analysis{faces: r.faces, bounds: img.Bounds(), err: r.err}, r.waited
	case <-ctx.Done():
		if !it.started.Load() {
			return analysis{err: fmt.Errorf("%w: timed out after %s waiting for a batch to run: %w", errBusy, s.cfg.Timeout, ctx.Err())}, time.Since(submitted)
		}
		return analysis{err: fmt.Errorf("timed out after %s analysing the image: %w", s.cfg.Timeout, ctx.Err())}, time.Since(submitted)
	}
}

// decodeUpload decodes up and gives back its encoded bytes.
func decodeUpload(ctx context.Context, hdr preprocess.Header, up *upload) (*image.NRGBA, error) {
	img, err := hdr.DecodeNRGBA(ctx, up.data, up.name)
	up.data = nil
	up.release()
	if err != nil {
		return nil, decodeError(ctx, err)
	}
	return img, nil
}

// run is analyse's work, on the goroutine that holds the limits.
func (s *Server) run(ctx context.Context, hdr preprocess.Header, up *upload) analysis {
	// Decoding stops at ctx's end, so that a request that timed out gives
	// its CPU slot back within milliseconds, not when a scan bomb is done.
	img, err := decodeUpload(ctx, hdr, up)
	if err != nil {
		return analysis{err: err}
	}
	if err := ctx.Err(); err != nil {
		return analysis{err: err}
	}
	faces, errs := s.est.FacesContext(ctx, []*image.NRGBA{img})
	switch {
	case len(faces) != 1 || len(errs) != 1:
		return analysis{err: fmt.Errorf("estimator returned %d results and %d errors for one image", len(faces), len(errs))}
	case errs[0] != nil:
		return analysis{err: fmt.Errorf("estimate age and gender: %w", errs[0])}
	}
	return analysis{faces: faces[0], bounds: img.Bounds()}
}

// decodeError gives a failed decode its status: the request's own end when
// that stopped it, else 400 for the file.
func decodeError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return &uploadError{http.StatusBadRequest, err}
}
