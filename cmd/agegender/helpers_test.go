package main_test

import (
	"hash/crc32"
	"os"
	"sync"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error

	// sharedDir holds what tests share across one run of the test binary;
	// TestMain removes it.
	sharedOnce sync.Once
	sharedDir  string
	sharedErr  error
)

// shared creates sharedDir on first use.
func shared() (string, error) {
	sharedOnce.Do(func() { sharedDir, sharedErr = os.MkdirTemp("", "agegender-e2e-") })
	return sharedDir, sharedErr
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
