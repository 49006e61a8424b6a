//go:build !unix

package server

// fdLimit reports no limit where the process has none to read.
func fdLimit() (uint64, bool) { return 0, false }
