package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/server"
)

type serveOptions struct {
	engine          engineFlags
	host            string
	port            int
	maxUpload       string
	maxMemory       string
	maxUploadMemory string
	uploadTimeout   time.Duration
	timeout         time.Duration
	drainDelay      time.Duration
	maxBatch        int
	batchWindow     time.Duration
	logLevel        string
}

func newCmdServe(ios *IOStreams, open OpenEngine) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve POST /predict, GET /health and GET /ready over HTTP",
		Long: `serve answers the reference API: POST /predict with the multipart field
"file" returns {"age", "gender", "gender_probability"} for the largest face,
plus "faces" with every face. GET /health reports the model and runtime
(the process is alive); GET /ready answers 200 while the server takes
requests and 503 once it is stopping (send it traffic or not); GET /metrics
is for Prometheus (requests by route and code, latency, requests in flight,
faces, queue wait).
Errors are JSON {"error": "..."}: 400 bad upload or an image over the pixel
or aspect-ratio limit, 408 upload slower than --upload-timeout, 413 over
--max-upload or over the memory one image may take, 405 wrong method, 422 no
face found, 503 busy or timed out.

Uploads are read whole before anything else is held; then the memory the
image's header says it needs is reserved from --max-memory before a pixel is
decoded. One image may use three quarters of --max-memory, and images larger
than a crop (over 1/16 of it) take one of the inference slots (one per core)
before decoding, at most all the slots but one, so crops are never starved.
Crop-sized images are decoded and estimated in micro-batches: the images of
requests that arrive together go to the engine in one call (--max-batch,
--batch-window).

Each request is logged once on stderr, as JSON lines when stderr is not a
terminal and as text when it is, with its id; the id is also returned in the
X-Request-Id header (the client's own when it sent a sane one).

SIGINT or SIGTERM makes /ready fail, keeps serving for --drain-delay so that
a load balancer stops sending, then stops accepting connections and lets the
requests in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveRun(cmd, ios, &o)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (0.0.0.0: every IPv4 interface, only; \"::\": every IPv6 one, only; \"\": both)")
	fs.IntVar(&o.port, "port", 5000, "port to listen on")
	fs.StringVar(&o.maxUpload, "max-upload", "20MB", "largest upload accepted (e.g. 512KB, 20MB)")
	fs.StringVar(&o.maxMemory, "max-memory", bytesize.Flag(server.DefaultMaxMemory), "memory for uploads being received and images being analysed at once; the process stays about 150 MB above it")
	fs.StringVar(&o.maxUploadMemory, "max-upload-memory", "", fmt.Sprintf("the part of --max-memory for upload bodies being received, charged twice over; an eighth is kept for the first 64 KB of each, a quarter for bytes up to 1 MB (default: %s, or a quarter of --max-memory if less)", bytesize.Flag(server.DefaultMaxUploadMemory)))
	fs.DurationVar(&o.uploadTimeout, "upload-timeout", server.DefaultUploadTimeout, "time limit for receiving each upload")
	fs.DurationVar(&o.timeout, "timeout", server.DefaultTimeout, "time limit for each request once its upload is in")
	fs.IntVar(&o.maxBatch, "max-batch", server.DefaultMaxBatch, "most crop-sized images of concurrent requests estimated in one engine call (micro-batching); 1 turns it off")
	fs.DurationVar(&o.batchWindow, "batch-window", server.DefaultBatchWindow, "how long a batch waits for more images after its first; images join anyway while every slot is busy")
	fs.DurationVar(&o.drainDelay, "drain-delay", 0, "after SIGTERM, keep serving this long with /ready failing before closing the listener (e.g. 5s behind a load balancer)")
	fs.StringVar(&o.logLevel, "log-level", "info", "least level logged: debug (also logs /health, /ready and /metrics), info, warn, error")
	return cmd
}

func serveRun(cmd *cobra.Command, ios *IOStreams, o *serveOptions) (err error) {
	maxUpload, maxMemory, maxUploadMemory, err := o.sizes()
	if err != nil {
		return err
	}
	if o.port < 0 || o.port > 65535 {
		return usagef("--port %d is not a TCP port", o.port)
	}
	if o.uploadTimeout <= 0 || o.timeout <= 0 {
		return usagef("--upload-timeout and --timeout must be positive")
	}
	if o.maxBatch < 1 || o.maxBatch > maxBatchLimit {
		return usagef("--max-batch %d is outside 1..%d", o.maxBatch, maxBatchLimit)
	}
	if o.batchWindow < 0 || o.batchWindow > maxBatchWindow {
		return usagef("--batch-window %s is outside 0..%s", o.batchWindow, maxBatchWindow)
	}
	if o.drainDelay < 0 || o.drainDelay > maxDrainDelay {
		return usagef("--drain-delay %s is outside 0..%s", o.drainDelay, maxDrainDelay)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	logger := newLogger(ios.ErrOut, ios.ErrTTY, level)
	eng, err := o.engine.open(cmd.Context())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// The budget counts what the images hold; the soft limit makes the
	// garbage collector return what they no longer hold before the heap
	// doubles, which is what keeps resident memory near the budget. GOMEMLIMIT
	// set by the user wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(maxMemory + gcHeadroom)
	}
	info := eng.Info()
	h := server.NewHandler(eng, server.Config{
		MaxConcurrent:   workerCount(0, o.engine.threads, runtime.NumCPU()),
		MaxUpload:       maxUpload,
		MaxMemory:       maxMemory,
		MaxUploadMemory: maxUploadMemory,
		WorkCost:        eng.WorkingMemory,
		UploadTimeout:   o.uploadTimeout,
		Timeout:         o.timeout,
		DrainDelay:      o.drainDelay,
		MaxBatch:        o.maxBatch,
		BatchWindow:     o.batchWindow,
		Logger:          logger,
		Health: map[string]any{
			"model": info.Model, "model_version": info.ModelVersion, "ort_version": info.ORTVersion,
			"detect": string(info.Mode), "input": info.Input, "detector": info.Detector,
		},
	})
	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	return server.Serve(cmd.Context(), ln, h, logger)
}

// sizes parses and checks the size flags.
func (o *serveOptions) sizes() (maxUpload, maxMemory, maxUploadMemory int64, err error) {
	maxUpload, err = bytesize.Parse(o.maxUpload)
	if err != nil {
		return 0, 0, 0, usageError{fmt.Errorf("--max-upload: %w", err)}
	}
	maxMemory, err = bytesize.Parse(o.maxMemory)
	if err != nil {
		return 0, 0, 0, usageError{fmt.Errorf("--max-memory: %w", err)}
	}
	if maxMemory < minMaxMemory {
		return 0, 0, 0, usagef("--max-memory %s is under the %s the engine needs to analyse one photo", o.maxMemory, bytesize.Flag(minMaxMemory))
	}
	if o.maxUploadMemory == "" {
		return maxUpload, maxMemory, 0, nil // the server's default
	}
	maxUploadMemory, err = bytesize.Parse(o.maxUploadMemory)
	if err != nil {
		return 0, 0, 0, usageError{fmt.Errorf("--max-upload-memory: %w", err)}
	}
	// Five eighths of it hold the bytes of uploads past 1 MB (server's
	// upload.go), twice over; the images keep at least half of --max-memory.
	if maxUploadMemory*5/8 < 2*maxUpload || maxUploadMemory > maxMemory/2 {
		return 0, 0, 0, usagef("--max-upload-memory %s must hold one --max-upload %s upload (at least %s) and be at most half of --max-memory %s",
			o.maxUploadMemory, o.maxUpload, bytesize.Flag(2*maxUpload*8/5+1), o.maxMemory)
	}
	return maxUpload, maxMemory, maxUploadMemory, nil
}

// newLogger writes text for a person at a terminal and JSON lines for
// everything else (a log collector, a file, journald).
func newLogger(w io.Writer, tty bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if tty {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// minMaxMemory admits a 1280x960 photo; gcHeadroom is the Go heap the
// server holds outside the budget (the engine's own buffers, connections).
const (
	minMaxMemory = 32 << 20
	gcHeadroom   = 64 << 20
)

// maxDrainDelay bounds --drain-delay below the 30 s a pod gets by default
// between SIGTERM and SIGKILL, leaving time for requests in flight.
const maxDrainDelay = 25 * time.Second

// A batch larger than 64 crops or a window over 100 ms would only add
// latency: one engine call on 64 faces already takes tens of milliseconds.
const (
	maxBatchLimit  = 64
	maxBatchWindow = 100 * time.Millisecond
)
