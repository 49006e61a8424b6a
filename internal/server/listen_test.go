package server

import (
	"net"
	"strconv"
	"testing"
)

// --host 0.0.0.0 listens on IPv4 only: Go's "tcp" listener on 0.0.0.0 is a
// dual-stack socket that takes IPv6 connections to [::] as well.
func TestListenHostIPv4Only(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	ln, err := Listen("0.0.0.0", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if c, err := net.Dial("tcp4", "127.0.0.1:"+port); err != nil {
		t.Errorf("IPv4 connection refused: %v", err)
	} else {
		c.Close()
	}
	if c, err := net.Dial("tcp6", "[::1]:"+port); err == nil {
		c.Close()
		t.Errorf("--host 0.0.0.0 took an IPv6 connection")
	}
}

func TestListenNetwork(t *testing.T) {
	for host, want := range map[string]string{
		"0.0.0.0": "tcp4", "127.0.0.1": "tcp4", "::": "tcp6", "::1": "tcp6", "localhost": "tcp", "": "tcp",
	} {
		if got := listenNetwork(host); got != want {
			t.Errorf("listenNetwork(%q) = %q, want %q", host, got, want)
		}
	}
}
