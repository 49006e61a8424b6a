//go:build unix

package server

import "syscall"

// fdLimit is the process's soft limit on open files (Go raises it to the
// hard limit at start), if it can be read and is finite.
func fdLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<40 {
		return 0, false
	}
	return rl.Cur, true
}
