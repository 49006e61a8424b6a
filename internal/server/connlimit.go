package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that keeps at most max connections open, so
// that connections stay inside the memory budget and the process's file
// descriptors: 19,990 idle keep-alive connections once made accept fail
// with "too many open files", and 1,500 that each sent most of a megabyte
// of headers took serve from 76 MB to 1.8 GB.
//
// At the cap, Accept closes the connection that does the least to make
// room: the oldest idle one first, then the oldest still sending its
// request's headers. A connection whose request is in a handler is never
// closed; when every one is, Accept waits, and new connections wait in the
// kernel's backlog, holding no descriptor of ours.
type connLimiter struct {
	net.Listener
	max   int
	mu    sync.Mutex
	conns map[*limitedConn]struct{}
	// freed gets a token when a connection is let go.
	freed chan struct{}
	done  chan struct{}
	once  sync.Once
}

// limitedConn is a connection of a connLimiter and what it is doing.
type limitedConn struct {
	net.Conn
	l *connLimiter
	// Guarded by l.mu: idle since when, or in a handler.
	idle      bool
	inHandler int
	since     time.Time
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: max, conns: map[*limitedConn]struct{}{},
		freed: make(chan struct{}, 1), done: make(chan struct{})}
}

// Accept accepts the next connection, then makes room for it if need be,
// so that an idle connection is closed only for one that is waiting: the
// connection accepted and waiting for room is the one over the cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for !l.makeRoom() {
		select {
		case <-l.freed:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
	lc := &limitedConn{Conn: c, l: l, since: time.Now()}
	l.mu.Lock()
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// makeRoom reports whether a connection may be accepted, closing the one
// that does the least when the cap is reached.
func (l *connLimiter) makeRoom() bool {
	l.mu.Lock()
	if len(l.conns) < l.max {
		l.mu.Unlock()
		return true
	}
	var victim *limitedConn
	for c := range l.conns {
		if c.inHandler == 0 && (victim == nil || l.before(c, victim)) {
			victim = c
		}
	}
	if victim != nil {
		delete(l.conns, victim)
	}
	l.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.Conn.Close()
	return true
}

// before orders the connections to close first: idle ones, then the rest,
// oldest first within each.
func (l *connLimiter) before(a, b *limitedConn) bool {
	if a.idle != b.idle {
		return a.idle
	}
	return a.since.Before(b.since)
}

// Close stops Accept, and closes the listener.
func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// forget lets c go; calling it again does nothing.
func (l *connLimiter) forget(c *limitedConn) {
	l.mu.Lock()
	_, open := l.conns[c]
	delete(l.conns, c)
	l.mu.Unlock()
	if open {
		select {
		case l.freed <- struct{}{}:
		default:
		}
	}
}

func (c *limitedConn) Close() error {
	c.l.forget(c)
	return c.Conn.Close()
}

// connState is http.Server's ConnState hook: it notes when a connection
// turns idle, and lets go of it when closed or hijacked.
func (l *connLimiter) connState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	switch state {
	case http.StateActive, http.StateIdle:
		l.mu.Lock()
		c.idle, c.since = state == http.StateIdle, time.Now()
		l.mu.Unlock()
	case http.StateClosed, http.StateHijacked:
		l.forget(c)
	}
}

// connKey is the context key of a request's *limitedConn.
type connKey struct{}

// connContext is http.Server's ConnContext hook: it puts the connection in
// its requests' context, for inHandler.
func connContext(ctx context.Context, nc net.Conn) context.Context {
	if c, ok := nc.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, c)
	}
	return ctx
}

// inHandler marks r's connection as in a handler until h returns, so that
// making room never closes it.
func inHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(*limitedConn); ok {
			c.l.mu.Lock()
			c.inHandler++
			c.l.mu.Unlock()
			defer func() {
				c.l.mu.Lock()
				c.inHandler--
				c.l.mu.Unlock()
			}()
		}
		h.ServeHTTP(w, r)
	})
}
