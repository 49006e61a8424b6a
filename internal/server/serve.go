package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
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

// Serve serves h on ln until ctx is cancelled, then shuts down gracefully:
// in-flight requests get up to 30 s to finish, and when h came from
// NewHandler, so do inferences that outlived their timed-out requests, so
// that the caller may close the engine as soon as Serve returns. Request
// contexts are not derived from ctx, so cancelling it does not abort them.
// It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logw io.Writer) error {
	if logw == nil {
		logw = io.Discard
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          log.New(logw, "http: ", log.LstdFlags),
	}
	addr := ln.Addr().String()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(logw, "serving on http://%s\n", addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", addr, err)
	}
	if hd, ok := h.(*handler); ok {
		if err := hd.adm.waitIdle(sctx); err != nil {
			return fmt.Errorf("shut down %s: %w", addr, err)
		}
	}
	return nil
}
