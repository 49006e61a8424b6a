package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve's own bounds. The header timeout stops slow-loris clients; the read
// timeout is a backstop for every route, and /predict sets its own, tighter
// deadlines on the body (Config.UploadTimeout, pace.go). Headers are capped
// at maxHeaderBytes (net/http allows 4 KB more), so that the connections
// (Config.MaxConnections) hold at most some tens of megabytes of them; the
// default megabyte let 1,500 connections hold 1.7 GB. An idle connection is
// closed after idleTimeout, and sooner when the cap needs its place.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	idleTimeout       = 30 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownGrace     = 30 * time.Second
)

// Serve serves s on ln until ctx is cancelled, then shuts down gracefully:
// /ready fails from then on and, for Config.DrainDelay, requests are still
// served so that load balancers stop sending new ones. Then the listener
// closes, in-flight requests get up to 30 s to finish, and so do inferences
// that outlived their timed-out requests, so that the caller may close the
// engine as soon as Serve returns. Request contexts are not derived from
// ctx, so cancelling it does not abort them. It returns nil after a clean
// shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	limited := newConnLimiter(ln, s.cfg.connectionCap())
	ln = limited
	srv := &http.Server{
		Handler:           inHandler(s),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         limited.connState,
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "url", "http://"+addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	if err := s.drain(errc); err != nil {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	s.log.Info("shutting down: no new connections; waiting for requests in flight")
	// Uploads still arriving would hold Shutdown until their own deadline,
	// past the grace; they are answered 503 at once instead.
	s.uploading.stop()

	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	if err := s.finishWork(sctx); err != nil {
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	return nil
}

// drain makes /ready fail and keeps serving for Config.DrainDelay, unless
// the server fails first (its error comes on errc).
func (s *Server) drain(errc <-chan error) error {
	s.draining.Store(true)
	d := s.cfg.DrainDelay
	if d <= 0 {
		return nil
	}
	s.log.Info("draining: /ready fails, requests are still served", "for", d.String())
	select {
	case <-time.After(d):
		return nil
	case err := <-errc:
		return err
	}
}

// finishWork returns once the work that outlived its requests is done:
// the batches already formed have run and no inference is running. The
// handlers must have returned (http.Server.Shutdown).
func (s *Server) finishWork(ctx context.Context) error {
	if s.batch != nil {
		if err := s.batch.close(ctx); err != nil {
			return err
		}
	}
	return s.adm.waitIdle(ctx)
}
