package server

import (
	"testing"
	"time"
)

// Validate names the flag of the setting out of bounds, as serve's users
// typed it, and each bound is inclusive.
func TestValidateNamesTheFlag(t *testing.T) {
	// Every field set, as serve's flags set them.
	base := Config{
		MaxUpload: DefaultMaxUpload, MaxMemory: DefaultMaxMemory, UploadTimeout: DefaultUploadTimeout,
		Timeout: DefaultTimeout, MaxBatch: DefaultMaxBatch, BatchWindow: DefaultBatchWindow, MaxConcurrent: 2,
		MaxConnections: DefaultMaxConnections,
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"max-memory", func(c *Config) { c.MaxMemory = 1 << 10 }, "--max-memory 1KB is under the 32MB the engine needs to analyse one photo"},
		{"max-memory least", func(c *Config) { c.MaxMemory = 32 << 20 }, ""},
		{"max-upload-memory small", func(c *Config) { c.MaxUploadMemory = 40 << 20 },
			"--max-upload-memory 40MB must hold one --max-upload 20MB upload (at least 67108865) and be at most half of --max-memory 384MB"},
		{"max-upload-memory large", func(c *Config) { c.MaxUploadMemory = 256 << 20 },
			"--max-upload-memory 256MB must hold one --max-upload 20MB upload (at least 67108865) and be at most half of --max-memory 384MB"},
		{"max-upload-memory", func(c *Config) { c.MaxUploadMemory = 64 << 20 }, ""},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "--upload-timeout and --timeout must be positive"},
		{"upload-timeout", func(c *Config) { c.UploadTimeout = -time.Second }, "--upload-timeout and --timeout must be positive"},
		{"max-batch 0", func(c *Config) { c.MaxBatch = 0 }, "--max-batch 0 is outside 1..64"},
		{"max-batch 65", func(c *Config) { c.MaxBatch = 65 }, "--max-batch 65 is outside 1..64"},
		{"max-batch 64", func(c *Config) { c.MaxBatch = 64 }, ""},
		{"batch-window", func(c *Config) { c.BatchWindow = time.Second }, "--batch-window 1s is outside 0..100ms"},
		{"batch-window negative", func(c *Config) { c.BatchWindow = -time.Millisecond }, "--batch-window -1ms is outside 0..100ms"},
		{"batch-window 100ms", func(c *Config) { c.BatchWindow = 100 * time.Millisecond }, ""},
		{"drain-delay", func(c *Config) { c.DrainDelay = -time.Second }, "--drain-delay -1s is outside 0..25s"},
		{"drain-delay 26s", func(c *Config) { c.DrainDelay = 26 * time.Second }, "--drain-delay 26s is outside 0..25s"},
		{"drain-delay 25s", func(c *Config) { c.DrainDelay = 25 * time.Second }, ""},
		{"max-connections 0", func(c *Config) { c.MaxConnections = 0 }, "--max-connections 0 must be at least 1"},
		{"max-connections 1", func(c *Config) { c.MaxConnections = 1 }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			got := ""
			if err := cfg.Validate(); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("Validate() = %q, want %q", got, c.want)
			}
		})
	}
}

// New fills in the zero fields before it validates, so that the zero Config
// serves, and refuses a Config out of bounds.
func TestNewValidates(t *testing.T) {
	s, err := New(&fakeEstimator{}, Config{})
	if err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	if s.cfg.MaxUploadMemory != DefaultMaxUploadMemory || s.cfg.MaxBatch != DefaultMaxBatch || s.cfg.Timeout != DefaultTimeout {
		t.Errorf("zero Config became %+v", s.cfg)
	}
	if _, err := New(&fakeEstimator{}, Config{MaxBatch: 65}); err == nil || err.Error() != "--max-batch 65 is outside 1..64" {
		t.Errorf("MaxBatch 65: %v", err)
	}
}

// The Go runtime's soft limit sits a fixed headroom above the memory budget.
func TestMemoryLimit(t *testing.T) {
	if got, want := (Config{}).MemoryLimit(), int64(DefaultMaxMemory+gcHeadroom); got != want {
		t.Errorf("zero Config: %d, want %d", got, want)
	}
	if got, want := (Config{MaxMemory: 1 << 30}).MemoryLimit(), int64(1<<30+64<<20); got != want {
		t.Errorf("1 GB: %d, want %d", got, want)
	}
}
