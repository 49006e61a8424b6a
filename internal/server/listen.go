package server

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
)

// Listen listens on host:port; an IP address listens on its own family only.
func Listen(host string, port int) (net.Listener, error) {
	ln, err := net.Listen(listenNetwork(host), net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// listenNetwork is tcp4 for an IPv4 address and tcp6 for an IPv6 one: on
// "tcp", Go listens on 0.0.0.0 with a dual-stack socket, so --host 0.0.0.0
// took IPv6 connections too, which a user who named an IPv4 address did
// not ask to expose. A name, or no host, keeps "tcp" (every address).
func listenNetwork(host string) string {
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "tcp"
	case ip.To4() != nil:
		return "tcp4"
	default:
		return "tcp6"
	}
}

// NewLogger writes text for a person at a terminal and JSON lines for
// everything else (a log collector, a file, journald).
func NewLogger(w io.Writer, tty bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if tty {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
