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
// deadline on the body (Config.UploadTimeout).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownGrace     = 30 * time.Second
)

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully.
// When h came from NewHandler, /ready fails from then on and, for its
// Config.DrainDelay, requests are still served so that load balancers stop
// sending new ones. Then the listener closes, in-flight requests get up to
// 30 s to finish, and so do inferences that outlived their timed-out
// requests, so that the caller may close the engine as soon as Serve
// returns. Request contexts are not derived from ctx, so cancelling it does
// not abort them. It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	addr := ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "url", "http://"+addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	hd, _ := h.(*handler)
	if hd != nil {
		hd.draining.Store(true)
		if d := hd.cfg.DrainDelay; d > 0 {
			logger.Info("draining: /ready fails, requests are still served", "for", d.String())
			select {
			case <-time.After(d):
			case err := <-errc:
				return fmt.Errorf("serve on %s: %w", addr, err)
			}
		}
	}
	logger.Info("shutting down: no new connections; waiting for requests in flight")

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	if hd != nil && hd.batch != nil {
		if err := hd.batch.close(sctx); err != nil {
			return fmt.Errorf("shut down %s: %w", addr, err)
		}
	}
	if hd != nil {
		if err := hd.adm.waitIdle(sctx); err != nil {
			return fmt.Errorf("shut down %s: %w", addr, err)
		}
	}
	return nil
}
