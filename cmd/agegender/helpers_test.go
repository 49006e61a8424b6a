package main_test

import (
	"hash/crc32"
	"sync"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
