package server

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/preprocess"
)

// Config tunes the server. It mirrors serve's flags, and New fills in its
// zero fields with the defaults below, so that a Config need name only what
// it changes.
type Config struct {
	// MaxUpload bounds the whole request body in bytes; 0 means DefaultMaxUpload.
	MaxUpload int64
	// UploadTimeout bounds the reading of a request's body; 0 means
	// DefaultUploadTimeout.
	UploadTimeout time.Duration
	// Timeout bounds each request from the end of its upload, including the
	// wait for memory and an inference slot; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxMemory bounds, in bytes, the memory of requests at once: upload
	// bodies being received (MaxUploadMemory of it) and images being
	// decoded and analysed (the rest, their encoded bytes included), charged
	// from their headers before any pixel is decoded; 0 means
	// DefaultMaxMemory, and it may not be under 32 MB. One image may take
	// at most three quarters of the images' part.
	MaxMemory int64
	// MaxUploadMemory is the part of MaxMemory that upload bodies being
	// received may hold, each reserved whole before it is read: its
	// Content-Length, or twice MaxUpload when it declares none (its buffer
	// grows by doubling). 0 means DefaultMaxUploadMemory, or a quarter of
	// MaxMemory if that is less. When set, it must hold one such chunked
	// upload in five eighths of it and be at most half of MaxMemory. It is
	// split by the uploads' size (uploadbudget.go), so that large uploads
	// cannot hold up crops.
	MaxUploadMemory int64
	// Health holds extra fields for /health (model, versions, detection
	// mode...); "status" is always "ok" and cannot be overridden.
	Health map[string]any
	// MaxConcurrent bounds inferences running at once, so that a burst of
	// requests queues instead of thrashing the CPU; 0 means runtime.NumCPU().
	MaxConcurrent int
	// Logger receives one line per request and the server's own events;
	// nil discards them.
	Logger *slog.Logger
	// MaxBatch bounds the images of concurrent requests estimated in one
	// call (micro-batching), up to 64; 0 means DefaultMaxBatch, 1 turns
	// batching off.
	// Only images under 1/16 of MaxMemory are batched: a large one would hold
	// the crops of its batch back for seconds.
	MaxBatch int
	// BatchWindow is how long a batch waits for more images after its first
	// before it runs on a free slot, up to 100 ms; while every slot is busy
	// images join anyway, up to MaxBatch.
	BatchWindow time.Duration
	// DrainDelay is how long Serve, once told to stop, keeps serving with
	// /ready answering 503 before it closes the listener, so that a load
	// balancer polling /ready stops sending new requests first, up to 25 s;
	// 0 closes at once.
	DrainDelay time.Duration
	// NoPage turns off the page at GET / (internal/webui), for API-only
	// deployments: / then answers 404 as any unknown path does.
	NoPage bool

	// MaxConnections bounds the connections open at once (Serve); at the
	// cap the oldest idle one is closed to make room, then the oldest still
	// sending its headers. 0 means DefaultMaxConnections; Serve lowers it to
	// keep fdHeadroom descriptors below the process's limit.
	MaxConnections int

	// limits bound what an image's header may declare; zero picks
	// preprocess's defaults, which serve keeps. Tests raise them.
	limits preprocess.Limits
	// uploadQueueWait bounds an upload's wait for memory to be received
	// into, and uploadStall the time each 64 KB of its body may take
	// (pace.go); zero means the defaults below. Tests shorten them.
	uploadQueueWait time.Duration
	uploadStall     time.Duration
	// shutdownGrace bounds Serve's wait for requests in flight once it
	// stops; zero means shutdownGrace. Tests shorten it.
	shutdownGrace time.Duration
}

// Defaults for the zero Config.
const (
	DefaultMaxUpload     = 20 << 20
	DefaultUploadTimeout = time.Minute
	DefaultTimeout       = 30 * time.Second
	// DefaultMaxMemory leaves images 320 MB beside the upload budget, so one
	// image may take 240 MB (about 30 megapixels), and keeps the whole
	// server, with the engine's own 100 MB, under 600 MB of resident memory.
	DefaultMaxMemory = 384 << 20
	// DefaultMaxUploadMemory lets one 20 MB upload arrive at a time beside
	// hundreds of crops; the images keep 320 MB of the default 384.
	DefaultMaxUploadMemory = 64 << 20
	// Micro-batching is off by default: on the 2-core development machine,
	// at 16 clients on a face crop, batches of up to 8 (4.4-4.6 images on
	// average) cut the server's CPU per request by 3-6% but made p99 worse
	// in each of 5 interleaved runs, and requests/s moved 0.86-1.09x
	// (README). Detection, one image per ONNX Runtime run, is most of the
	// work; batching shares only the age/gender model's run. A window of 0
	// adds no latency to a request that finds the server idle.
	DefaultMaxBatch    = 1
	DefaultBatchWindow = 0
	// An upload that finds no memory to be received into waits at most
	// defaultUploadQueueWait, longer than defaultUploadStall, so that an
	// honest upload outwaits the stalled ones that hold the memory it needs.
	// DefaultMaxConnections holds a few hundred clients with keep-alive, and
	// with 20 KB of headers each stays within some tens of megabytes.
	DefaultMaxConnections  = 1024
	defaultUploadQueueWait = 10 * time.Second
	defaultUploadStall     = 5 * time.Second
)

// Bounds that Validate holds a Config to.
const (
	// minMaxMemory admits a 1280x960 photo.
	minMaxMemory = 32 << 20
	// A batch larger than 64 crops or a window over 100 ms would only add
	// latency: one engine call on 64 faces already takes tens of
	// milliseconds.
	maxBatchLimit  = 64
	maxBatchWindow = 100 * time.Millisecond
	// maxDrainDelay bounds DrainDelay below the 30 s a pod gets by default
	// between SIGTERM and SIGKILL, leaving time for requests in flight.
	maxDrainDelay = 25 * time.Second
)

// gcHeadroom is the Go heap the server holds outside MaxMemory: the
// engine's own buffers, connections.
const gcHeadroom = 64 << 20

// Validate reports the first setting outside its bounds, naming it as
// serve's flag. It checks the Config as it is: New calls it once the zero
// fields have their defaults, and serve, whose flags set every field, calls
// it before it opens the engine. MaxUploadMemory is checked only when set,
// against MaxUpload as set.
func (cfg Config) Validate() error {
	if cfg.MaxMemory < minMaxMemory {
		return fmt.Errorf("--max-memory %s is under the %s the engine needs to analyse one photo",
			bytesize.Flag(cfg.MaxMemory), bytesize.Flag(minMaxMemory))
	}
	// Five eighths of it hold the uploads over 2 MB (uploadbudget.go), one
	// of which may be chunked; the images keep at least half of MaxMemory.
	if m := cfg.MaxUploadMemory; m != 0 && (m*5/8 < 2*cfg.MaxUpload || m > cfg.MaxMemory/2) {
		return fmt.Errorf("--max-upload-memory %s must hold one --max-upload %s upload (at least %s) and be at most half of --max-memory %s",
			bytesize.Flag(m), bytesize.Flag(cfg.MaxUpload), bytesize.Flag(2*cfg.MaxUpload*8/5+1), bytesize.Flag(cfg.MaxMemory))
	}
	if cfg.UploadTimeout <= 0 || cfg.Timeout <= 0 {
		return errors.New("--upload-timeout and --timeout must be positive")
	}
	if cfg.MaxBatch < 1 || cfg.MaxBatch > maxBatchLimit {
		return fmt.Errorf("--max-batch %d is outside 1..%d", cfg.MaxBatch, maxBatchLimit)
	}
	if cfg.BatchWindow < 0 || cfg.BatchWindow > maxBatchWindow {
		return fmt.Errorf("--batch-window %s is outside 0..%s", cfg.BatchWindow, maxBatchWindow)
	}
	if cfg.MaxConnections < 1 {
		return fmt.Errorf("--max-connections %d must be at least 1", cfg.MaxConnections)
	}
	if cfg.DrainDelay < 0 || cfg.DrainDelay > maxDrainDelay {
		return fmt.Errorf("--drain-delay %s is outside 0..%s", cfg.DrainDelay, maxDrainDelay)
	}
	return nil
}

// MemoryLimit is the soft limit for the Go runtime (debug.SetMemoryLimit)
// that keeps a server of this Config near its budget: MaxMemory counts what
// the images hold, and the limit makes the garbage collector return what
// they no longer hold before the heap doubles.
func (cfg Config) MemoryLimit() int64 {
	return cfg.withDefaults().MaxMemory + gcHeadroom
}

// withDefaults fills in the zero fields that have a default, except
// MaxUploadMemory, whose default New derives once the Config is valid.
func (cfg Config) withDefaults() Config {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = DefaultUploadTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = runtime.NumCPU()
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.shutdownGrace <= 0 {
		cfg.shutdownGrace = shutdownGrace
	}
	if cfg.uploadQueueWait <= 0 {
		cfg.uploadQueueWait = defaultUploadQueueWait
	}
	if cfg.uploadStall <= 0 {
		cfg.uploadStall = defaultUploadStall
	}
	return cfg
}

// fdHeadroom is the descriptors kept free below the process's limit for
// what is not a connection: the model files, the log, the listener, and
// the connection accepted while Serve waits for room.
const fdHeadroom = 64

// connectionCap is MaxConnections, lowered to leave fdHeadroom below the
// process's descriptor limit, and at least 1.
func (cfg Config) connectionCap() int {
	n := cfg.MaxConnections
	if limit, ok := fdLimit(); ok && limit-fdHeadroom < uint64(n) {
		n = int(max(limit, fdHeadroom+1) - fdHeadroom)
	}
	return max(n, 1)
}

// uploadMemory is MaxUploadMemory, or its default when it is zero.
func (cfg Config) uploadMemory() int64 {
	if cfg.MaxUploadMemory > 0 {
		return cfg.MaxUploadMemory
	}
	return min(DefaultMaxUploadMemory, cfg.MaxMemory/4)
}
