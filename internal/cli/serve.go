package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/bytesize"
	"github.com/agegender/agegender/internal/iostreams"
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
	maxConnections  int
	maxBatch        int
	batchWindow     time.Duration
	logLevel        string
	noPage          bool
}

func newCmdServe(ios *iostreams.IOStreams, open OpenEngine) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve POST /predict, GET /health and GET /ready over HTTP, and a page to try it",
		Long:  server.Usage,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveRun(cmd.Context(), ios, &o)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs, open)
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (0.0.0.0: every IPv4 interface, only; \"::\": every IPv6 one, only; \"\": both)")
	fs.IntVar(&o.port, "port", 5000, "port to listen on")
	fs.StringVar(&o.maxUpload, "max-upload", bytesize.Flag(server.DefaultMaxUpload), "largest upload accepted (e.g. 512KB, 20MB)")
	fs.StringVar(&o.maxMemory, "max-memory", bytesize.Flag(server.DefaultMaxMemory), "memory for uploads being received and images being analysed at once; the process stays about 150 MB above it")
	fs.StringVar(&o.maxUploadMemory, "max-upload-memory", "", fmt.Sprintf("the part of --max-memory for upload bodies being received, each reserved whole before it is read (twice --max-upload for one that declares no length); an eighth is kept for uploads up to 128 KB, a quarter for uploads up to 2 MB (default: %s, or a quarter of --max-memory if less)", bytesize.Flag(server.DefaultMaxUploadMemory)))
	fs.DurationVar(&o.uploadTimeout, "upload-timeout", server.DefaultUploadTimeout, "time limit for receiving each upload")
	fs.DurationVar(&o.timeout, "timeout", server.DefaultTimeout, "time limit for each request once its upload is in")
	fs.IntVar(&o.maxBatch, "max-batch", server.DefaultMaxBatch, "most crop-sized images of concurrent requests estimated in one engine call (micro-batching); 1 turns it off")
	fs.DurationVar(&o.batchWindow, "batch-window", server.DefaultBatchWindow, "how long a batch waits for more images after its first; images join anyway while every slot is busy")
	fs.IntVar(&o.maxConnections, "max-connections", server.DefaultMaxConnections, "most connections open at once; past it the oldest idle one is closed")
	fs.DurationVar(&o.drainDelay, "drain-delay", 0, "after SIGTERM, keep serving this long with /ready failing before closing the listener (e.g. 5s behind a load balancer)")
	fs.BoolVar(&o.noPage, "no-page", false, "do not serve the page at GET / (an API-only deployment)")
	fs.StringVar(&o.logLevel, "log-level", "info", "least level logged: debug (also logs /health, /ready and /metrics), info, warn, error")
	return cmd
}

func serveRun(ctx context.Context, ios *iostreams.IOStreams, o *serveOptions) (err error) {
	cfg, err := o.config()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", o.logLevel)
	}
	cfg.Logger = server.NewLogger(ios.ErrOut, ios.ErrTTY, level)
	eng, err := o.engine.open(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// GOMEMLIMIT set by the user wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit())
	}
	info := eng.Info()
	cfg.Health = info.Fields()
	srv, err := server.New(eng, cfg)
	if err != nil {
		return err
	}
	ln, err := server.Listen(o.host, o.port)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}

// config parses the flags into the server's Config and checks them, before
// the engine starts: the port here, every other bound in Config.Validate.
func (o *serveOptions) config() (server.Config, error) {
	cfg := server.Config{
		MaxConcurrent:  workerCount(0, o.engine.threads, runtime.NumCPU()),
		UploadTimeout:  o.uploadTimeout,
		Timeout:        o.timeout,
		DrainDelay:     o.drainDelay,
		MaxConnections: o.maxConnections,
		MaxBatch:       o.maxBatch,
		BatchWindow:    o.batchWindow,
		NoPage:         o.noPage,
	}
	var err error
	if cfg.MaxUpload, err = bytesize.Parse(o.maxUpload); err != nil {
		return cfg, usageError{fmt.Errorf("--max-upload: %w", err)}
	}
	if cfg.MaxMemory, err = bytesize.Parse(o.maxMemory); err != nil {
		return cfg, usageError{fmt.Errorf("--max-memory: %w", err)}
	}
	// Empty leaves the server's default.
	if o.maxUploadMemory != "" {
		if cfg.MaxUploadMemory, err = bytesize.Parse(o.maxUploadMemory); err != nil {
			return cfg, usageError{fmt.Errorf("--max-upload-memory: %w", err)}
		}
	}
	if o.port < 0 || o.port > 65535 {
		return cfg, usagef("--port %d is not a TCP port", o.port)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}
