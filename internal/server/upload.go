package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sync/atomic"
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
// deadline and the byte limit, charging what it reads to ub. A declared
// Content-Length over the limit is refused before a byte of the body is read.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, ub *uploadBudget) (up *upload, err error) {
	if r.ContentLength > s.cfg.MaxUpload {
		return nil, &uploadError{http.StatusRequestEntityTooLarge,
			fmt.Errorf("upload of %d bytes is over the %s limit", r.ContentLength, bytesize.Limit(s.cfg.MaxUpload))}
	}
	// The deadline applies to this request's body only. Once the body is in
	// it is lifted, because net/http cancels the request's context when a
	// read of the idle connection times out. When the upload failed it is
	// moved to now instead, because net/http drains what is left of a body
	// before closing, and would wait on the very client that stalled.
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.UploadTimeout)); err == nil {
		defer func() {
			if up != nil {
				rc.SetReadDeadline(time.Time{})
			} else {
				rc.SetReadDeadline(time.Now())
			}
		}()
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UploadTimeout)
	defer cancel()
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)

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
			return nil, s.readError(fmt.Errorf("malformed multipart upload: %w", err))
		}
		if part.FormName() != formField {
			part.Close()
			continue
		}
		name := part.FileName()
		if name == "" {
			name = "upload"
		}
		cr := &chargedReader{ctx: ctx, r: part, ub: ub}
		data, err := preprocess.ReadAll(cr, name, s.cfg.limits)
		part.Close()
		if err != nil {
			cr.release()
			return nil, s.readError(err)
		}
		return &upload{name: name, data: data, release: cr.release}, nil
	}
}

// readError gives a failed read of the body its status: 413 over the byte
// limit, 408 past the upload deadline, 429 past the large uploads in
// progress, 400 otherwise.
func (s *Server) readError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &uploadError{http.StatusRequestEntityTooLarge, fmt.Errorf("upload is over the %s limit", bytesize.Limit(mbe.Limit))}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return &uploadError{http.StatusRequestTimeout,
			fmt.Errorf("upload not received within the %s limit: %w", s.cfg.UploadTimeout, err)}
	case errors.Is(err, context.Canceled):
		return &uploadError{http.StatusRequestTimeout, fmt.Errorf("upload abandoned: %w", err)}
	case errors.Is(err, errUploadsBusy):
		return &uploadError{http.StatusTooManyRequests, err}
	}
	return &uploadError{http.StatusBadRequest, err}
}

// Uploads are charged to a budget of their own while they arrive, not to
// the memory budget of the images being analysed: twelve clients that each
// sent 17 MB and stalled once held the whole memory budget, and a crop sent
// meanwhile waited 58 s. The upload budget is split into tiers by how far
// into its body an upload is, as admission splits CPU slots and memory by
// cost: every upload's first 64 KB (a face crop whole) are charged to the
// crop tier, its bytes up to 1 MB (a phone photo) to the small tier, the
// rest to the large tier, and at most largeUploadsMax uploads may reach the
// large tier at once. Stalled uploads then fill only the tiers they reached:
// a crop waits only once some hundred uploads stall within their first
// 64 KB. An upload's bytes move to the memory budget when its image is
// admitted for decoding (imageCost counts them).
type uploadBudget struct {
	tiers   [3]uploadTier
	largeIn atomic.Int64
}

// uploadTier charges the bytes of an upload's body below upTo (and past the
// tier before) to b.
type uploadTier struct {
	upTo int64
	b    *budget.Budget
}

const (
	cropUpload  = 64 << 10
	smallUpload = 1 << 20
	// largeUploadsMax bounds the uploads past smallUpload in progress; more
	// are answered 429, as large images are past their lane's queue.
	largeUploadsMax = 8
)

// newUploadBudget splits total: an eighth for the crop tier, a quarter for
// the small one, the rest for the large one, raised if need be to hold one
// upload of maxUpload bytes, which would otherwise wait forever.
func newUploadBudget(total, maxUpload int64) *uploadBudget {
	crop := max(total/8, 64*2*cropUpload)
	small := max(total/4, 4*2*smallUpload)
	return &uploadBudget{tiers: [3]uploadTier{
		{upTo: cropUpload, b: budget.New(crop)},
		{upTo: smallUpload, b: budget.New(small)},
		{upTo: math.MaxInt64 / 4, b: budget.New(max(total-crop-small, 2*maxUpload))},
	}}
}

// errUploadsBusy marks an upload refused because largeUploadsMax others
// past smallUpload are in progress.
var errUploadsBusy = errors.New("too many large uploads in progress")

// chargedReader charges ub for the bytes read through it, twice over,
// because io.ReadAll holds the old and the grown buffer at once while it
// grows. It charges in steps of at least chargeStep, and waits, within ctx,
// while a tier is spent, which slows the reading of uploads instead of
// letting them pile up in memory.
type chargedReader struct {
	ctx      context.Context
	r        io.Reader
	ub       *uploadBudget
	read     int64
	held     [3]int64
	large    bool
	releases []func()
}

const chargeStep = 64 << 10

func (c *chargedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if cerr := c.charge(); cerr != nil {
		return n, cerr
	}
	return n, err
}

// charge brings what c holds in each tier up to twice the bytes it read
// within that tier's range.
func (c *chargedReader) charge() error {
	lo := int64(0)
	for i, tier := range c.ub.tiers {
		room := 2 * (tier.upTo - lo)
		need := 2 * min(max(c.read-lo, 0), tier.upTo-lo)
		lo = tier.upTo
		if need <= c.held[i] {
			continue
		}
		if i == len(c.ub.tiers)-1 && !c.large {
			if c.ub.largeIn.Add(1) > largeUploadsMax {
				c.ub.largeIn.Add(-1)
				return fmt.Errorf("upload is over %s: %w (limit %d); retry later", bytesize.Amount(smallUpload), errUploadsBusy, largeUploadsMax)
			}
			c.large = true
			c.releases = append(c.releases, func() { c.ub.largeIn.Add(-1) })
		}
		step := min(max(need-c.held[i], chargeStep), room-c.held[i])
		if err := c.acquire(tier.b, step); err != nil {
			return err
		}
		c.held[i] += step
	}
	return nil
}

func (c *chargedReader) acquire(b *budget.Budget, n int64) error {
	rel, err := b.Acquire(c.ctx, n)
	if err != nil {
		return fmt.Errorf("waiting for memory to hold the upload: %w", err)
	}
	c.releases = append(c.releases, rel)
	return nil
}

// release gives back what c holds; calling it again does nothing.
func (c *chargedReader) release() {
	for _, r := range c.releases {
		r()
	}
	c.releases, c.held, c.large = nil, [3]int64{}, false
}
