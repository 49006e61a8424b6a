//go:build linux

package server

import (
	"fmt"
	"runtime"
	"syscall"
)

// largeNice is how much less CPU priority the work of a large image gets
// than the server: at nice +10 the kernel gives a competing crop's thread
// about nine tenths of a shared core, so that a stream of photos slows crops
// as little as possible, while photos still use every idle cycle.
const largeNice = 10

// lowerThreadPriority locks the calling goroutine to its OS thread and
// raises that thread's nice value by largeNice (Linux schedules threads, not
// processes). The goroutine must end without unlocking: an unprivileged
// process cannot lower a nice value again, and the runtime discards a thread
// whose goroutine exits locked, so no other goroutine inherits the priority.
// Work the goroutine hands to others (the image library's parallel resizes)
// keeps the normal priority.
func lowerThreadPriority() error {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	// The raw system call answers 20 - nice.
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("read thread priority: %w", err)
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, 20-raw+largeNice)); err != nil {
		return fmt.Errorf("lower thread priority: %w", err)
	}
	return nil
}
