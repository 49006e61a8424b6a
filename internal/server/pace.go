package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// An upload holds memory reserved for its whole body from its first byte
// (uploadBudget), so a client that stops sending must not keep it until
// UploadTimeout: two that stalled after 11 MB once made an honest 5 MB
// upload wait 57 s. Each progressStep of a body must arrive within
// Config.uploadStall of the one before, else the upload is cut off with
// 408; that asks about 13 KB/s of the slowest client at the defaults.
const progressStep = 64 << 10

// errUploadStalled marks an upload cut off for making too little progress.
var errUploadStalled = errors.New("upload stalled")

// errShuttingDown marks an upload cut off because the server is stopping.
var errShuttingDown = errors.New("server is shutting down; retry on another replica")

// pacedBody is a request body whose reads fail once the upload's deadline
// passes, once its progress stalls, or once the server stops.
type pacedBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	stall  time.Duration
	end    time.Time
	set    time.Time // the read deadline last set
	read   int64
	mark   int64 // bytes read at markAt
	markAt time.Time
	// aborted is set by uploadSet.stop.
	aborted atomic.Bool
	owner   *uploadSet
}

// pace wraps body, read until end at the latest, and registers it so that
// Serve can cut it off when it stops.
func (s *Server) pace(w http.ResponseWriter, body io.ReadCloser, end time.Time) *pacedBody {
	p := &pacedBody{ReadCloser: body, rc: http.NewResponseController(w), stall: s.cfg.uploadStall,
		end: end, markAt: time.Now(), owner: &s.uploading}
	s.uploading.add(p)
	return p
}

func (p *pacedBody) Read(b []byte) (int, error) {
	stallAt := p.markAt.Add(p.stall)
	d := p.end
	if stallAt.Before(d) {
		d = stallAt
	}
	if !d.Equal(p.set) {
		p.rc.SetReadDeadline(d)
		p.set = d
	}
	// Checked after the deadline is set, so that a stop between the two
	// cannot be undone by it.
	if p.aborted.Load() {
		return 0, errShuttingDown
	}
	n, err := p.ReadCloser.Read(b)
	p.read += int64(n)
	if p.read-p.mark >= progressStep {
		p.mark, p.markAt = p.read, time.Now()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		switch {
		case p.aborted.Load():
			err = errShuttingDown
		case d.Equal(stallAt) && stallAt.Before(p.end):
			err = fmt.Errorf("%w: less than %d KB of the body arrived in %s (after %d bytes)",
				errUploadStalled, progressStep>>10, p.stall, p.read)
		}
	}
	return n, err
}

// done unregisters p. The read deadline is lifted when the upload came in
// whole, because net/http cancels the request's context when a read of the
// idle connection times out; when it failed it is moved to now instead,
// because net/http drains what is left of a body before closing, and would
// wait on the very client that stalled.
func (p *pacedBody) done(up **upload) {
	p.owner.remove(p)
	if *up != nil {
		p.rc.SetReadDeadline(time.Time{})
	} else {
		p.rc.SetReadDeadline(time.Now())
	}
}

// uploadSet is the bodies being received, so that Serve can cut them off
// when it stops: a slow upload once held shutdown for its whole 30 s grace,
// and serve exited 1.
type uploadSet struct {
	mu       sync.Mutex
	bodies   map[*pacedBody]struct{}
	stopping bool
}

func (u *uploadSet) add(p *pacedBody) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stopping {
		p.aborted.Store(true)
		return
	}
	if u.bodies == nil {
		u.bodies = map[*pacedBody]struct{}{}
	}
	u.bodies[p] = struct{}{}
}

func (u *uploadSet) remove(p *pacedBody) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.bodies, p)
}

// stop cuts off every body being received, and every one that starts later.
func (u *uploadSet) stop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stopping = true
	for p := range u.bodies {
		p.aborted.Store(true)
		p.rc.SetReadDeadline(time.Now())
	}
}

// uploadsInFlight counts the bodies being received.
func (s *Server) uploadsInFlight() int {
	s.uploading.mu.Lock()
	defer s.uploading.mu.Unlock()
	return len(s.uploading.bodies)
}
