package server

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/agegender/agegender/internal/preprocess"
)

// Config tunes the handler. Zero values pick the defaults below.
type Config struct {
	// MaxUpload bounds the whole request body in bytes; 0 means DefaultMaxUpload.
	MaxUpload int64
	// UploadTimeout bounds the reading of a request's body; 0 means
	// DefaultUploadTimeout.
	UploadTimeout time.Duration
	// Timeout bounds each request from the end of its upload, including the
	// wait for memory and an inference slot; 0 means DefaultTimeout.
	Timeout time.Duration
	// Limits bound what an image's header may declare.
	Limits preprocess.Limits
	// MaxMemory bounds, in bytes, the memory of requests at once: upload
	// bodies being received (MaxUploadMemory of it) and images being
	// decoded and analysed (the rest, their encoded bytes included), charged
	// from their headers before any pixel is decoded; 0 means
	// DefaultMaxMemory. One image may take at most three quarters of the
	// images' part.
	MaxMemory int64
	// MaxUploadMemory is the part of MaxMemory that upload bodies being
	// received may hold, charged twice over (the buffer grows by doubling);
	// 0 means DefaultMaxUploadMemory, or a quarter of MaxMemory if that is
	// less. It is split by how far into its body an upload is (upload.go),
	// so that stalled large uploads cannot hold up crops; its large tier
	// holds at least one MaxUpload upload.
	MaxUploadMemory int64
	// WorkCost, when set, is the memory the estimator takes for an image of
	// this size beyond its pixels and the detector working memory every
	// request is charged (the passes of a --det-size above the default);
	// it is charged with the image.
	WorkCost func(width, height int) int64
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
	// call (micro-batching); 0 means DefaultMaxBatch, 1 turns batching off.
	// Only images under 1/16 of MaxMemory are batched: a large one would hold
	// the crops of its batch back for seconds.
	MaxBatch int
	// BatchWindow is how long a batch waits for more images after its first
	// before it runs on a free slot; while every slot is busy images join
	// anyway, up to MaxBatch.
	BatchWindow time.Duration
	// DrainDelay is how long Serve, once told to stop, keeps serving with
	// /ready answering 503 before it closes the listener, so that a load
	// balancer polling /ready stops sending new requests first; 0 closes at
	// once.
	DrainDelay time.Duration
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
)

// withDefaults fills in the zero fields that have a default.
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
	if cfg.MaxUploadMemory <= 0 {
		cfg.MaxUploadMemory = min(DefaultMaxUploadMemory, cfg.MaxMemory/4)
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = runtime.NumCPU()
	}
	return cfg
}
