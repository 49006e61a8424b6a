package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agegender/agegender/internal/server"
)

type serveOptions struct {
	engine    engineFlags
	host      string
	port      int
	maxUpload string
	timeout   time.Duration
}

func newCmdServe(ios *IOStreams) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve POST /predict and GET /health over HTTP",
		Long: `serve answers the reference API: POST /predict with the multipart field
"file" returns {"age", "gender", "gender_probability"} for the largest face,
plus "faces" with every face. GET /health reports the model and runtime.
Errors are JSON {"error": "..."}: 400 bad upload, 413 over --max-upload,
405 wrong method, 422 no face found, 503 timed out.

SIGINT or SIGTERM stops accepting requests and lets those in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveRun(cmd, ios, &o)
		},
	}
	fs := cmd.Flags()
	o.engine.register(fs)
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
	fs.IntVar(&o.port, "port", 5000, "port to listen on")
	fs.StringVar(&o.maxUpload, "max-upload", "20MB", "largest upload accepted (e.g. 512KB, 20MB)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit for each request")
	return cmd
}

func serveRun(cmd *cobra.Command, ios *IOStreams, o *serveOptions) (err error) {
	maxUpload, err := parseSize(o.maxUpload)
	if err != nil {
		return usageError{fmt.Errorf("--max-upload: %w", err)}
	}
	if o.port < 0 || o.port > 65535 {
		return usagef("--port %d is not a TCP port", o.port)
	}
	eng, err := o.engine.open()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := eng.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	info := eng.Info()
	h := server.NewHandler(eng, server.Config{
		MaxUpload: maxUpload,
		Timeout:   o.timeout,
		Health: map[string]any{
			"model": info.Model, "model_version": info.ModelVersion, "ort_version": info.ORTVersion,
			"detect": string(info.Mode), "input": info.Input, "detector": info.Detector,
		},
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return server.Serve(cmd.Context(), ln, h, ios.ErrOut)
}

// parseSize reads "20MB", "512KB", "1GB" or a plain byte count.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size like 20MB", s)
	}
	return n * mult, nil
}
