//go:build !linux

package server

// lowerThreadPriority does nothing where threads have no priority of their
// own that an unprivileged process may lower; large images then compete with
// crops for the CPU on equal terms, within the large lane.
func lowerThreadPriority() error { return nil }
