// Command throughput is `make bench`: it runs the same list of images through
// each way of processing them, each in its own process so that peak RSS is
// its own, and prints images/s, ratios and peak RSS in one table.
//
//  1. decode-only: the batch pipeline (same workers) with decoding alone
//
//  2. agegender batch --detect off
//
//  3. agegender batch --detect auto
//
//  4. agegender batch --detect off --model <seed preset ONNX> (the reference
//     architecture exported by training/, untrained: speed only)
//
//  5. PyTorch eager inference of the seed architecture (bench/torch_seed.py),
//     which is what the reference system does
//
//     go run ./bench/throughput -bin bin/agegender -data ../shared/data/utkface -n 2000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/pipeline"
	"github.com/agegender/agegender/internal/report"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		os.Exit(1)
	}
}

type measurement struct {
	name    string
	images  int
	perSec  float64
	rssMB   float64
	skipped string
}

func run() error {
	bin := flag.String("bin", "bin/agegender", "agegender binary")
	data := flag.String("data", "../shared/data/utkface", "image folder")
	n := flag.Int("n", 2000, "first N files (sorted by name)")
	seedN := flag.Int("seed-n", 500, "files for the two seed-architecture cases, which are ~20x slower")
	seedModel := flag.String("seed-model", "", "seed preset ONNX (from training/main.py export --preset seed --untrained)")
	python := flag.String("python", "/usr/bin/python3", "python with torch, for case 5 ('' skips it)")
	workers := flag.Int("workers", runtime.NumCPU(), "workers for every case")
	decodeOnly := flag.String("decode-only", "", "internal: run case 1 over this list file and print images/s")
	flag.Parse()

	if *decodeOnly != "" {
		return runDecodeOnly(*decodeOnly, *workers)
	}
	names, err := filepath.Glob(filepath.Join(*data, "*.jpg"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no .jpg files in %s (this benchmark needs ../shared/data)", *data)
	}
	sort.Strings(names)
	if len(names) > *n {
		names = names[:*n]
	}
	dir, err := os.MkdirTemp("", "agegender-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	list := filepath.Join(dir, "list.txt")
	seedList := filepath.Join(dir, "seed-list.txt")
	if err := os.WriteFile(list, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(seedList, []byte(strings.Join(names[:min(*seedN, len(names))], "\n")+"\n"), 0o644); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	w := strconv.Itoa(*workers)
	var ms []measurement
	ms = append(ms, measure("1 decode-only (same pipeline)", len(names), list, self, "-decode-only", list, "-workers", w))
	ms = append(ms, measure("2 batch --detect off", len(names), list, *bin, "batch", "--detect", "off", "-q", "--workers", w, "-"))
	ms = append(ms, measure("3 batch --detect auto", len(names), list, *bin, "batch", "--detect", "auto", "-q", "--workers", w, "-"))
	seedCount := min(*seedN, len(names))
	if *seedModel != "" {
		ms = append(ms, measure("4 batch --detect off, seed preset ONNX", seedCount, seedList, *bin, "batch", "--detect", "off", "-q", "--workers", w, "--model", *seedModel, "-"))
	} else {
		ms = append(ms, measurement{name: "4 batch --detect off, seed preset ONNX", skipped: "no -seed-model"})
	}
	if *python != "" {
		ms = append(ms, measure("5 PyTorch eager, seed architecture", seedCount, "", *python, "bench/torch_seed.py", seedList))
	} else {
		ms = append(ms, measurement{name: "5 PyTorch eager, seed architecture", skipped: "no -python"})
	}
	print(os.Stdout, ms, *workers)
	return nil
}

var perSecRe = regexp.MustCompile(`([0-9.]+) images/s`)

// measure runs one case as a child process: images/s come from its own
// report when it prints one, else from the wall clock.
func measure(name string, images int, stdinList, bin string, args ...string) measurement {
	cmd := exec.Command(bin, args...)
	if stdinList != "" {
		f, err := os.Open(stdinList)
		if err != nil {
			return measurement{name: name, skipped: err.Error()}
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var out, errOut bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out)
	cmd.Stderr = &errOut
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil && cmd.ProcessState == nil {
		return measurement{name: name, skipped: err.Error()}
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 2 {
		return measurement{name: name, skipped: fmt.Sprintf("exit %d: %s", code, strings.TrimSpace(lastLine(errOut.String())))}
	}
	m := measurement{name: name, images: images, perSec: float64(images) / wall.Seconds()}
	if match := perSecRe.FindStringSubmatch(out.String()); match != nil && strings.Contains(name, "PyTorch") {
		m.perSec, _ = strconv.ParseFloat(match[1], 64)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssMB = float64(ru.Maxrss) / 1024
	}
	return m
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func print(w io.Writer, ms []measurement, workers int) {
	fmt.Fprintf(w, "throughput, %d workers on %d cores (images/s include process start and model load)\n", workers, runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "case\timages\timages/s\tvs decode-only\tvs PyTorch seed\tpeak RSS MB\t")
	base, torch := ms[0].perSec, ms[len(ms)-1].perSec
	for _, m := range ms {
		if m.skipped != "" {
			fmt.Fprintf(tw, "%s\t-\tskipped: %s\t\t\t\t\n", m.name, m.skipped)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%.0f\t\n", m.name, m.images, m.perSec, ratio(m.perSec, base), ratio(m.perSec, torch), m.rssMB)
	}
	tw.Flush()
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// runDecodeOnly is case 1: pipeline.Run with an estimator that finds nothing,
// so only reading, decoding and the worker pool are timed.
func runDecodeOnly(list string, workers int) error {
	f, err := os.Open(list)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := report.New(report.FormatJSONL, io.Discard, report.Options{})
	if err != nil {
		return err
	}
	sink := func(r pipeline.Result) error { return w.Write(r.Image) }
	sum, err := pipeline.Run(context.Background(), input.ReadList(f, '\n', input.DefaultExtensions), decodeOnly{}, sink, pipeline.Options{Workers: workers})
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d files failed to decode", sum.Failed, sum.Inputs)
	}
	return w.Close()
}

type decodeOnly struct{}

func (decodeOnly) FacesContext(_ context.Context, imgs []*image.NRGBA) ([][]face.Face, []error) {
	return make([][]face.Face, len(imgs)), make([]error, len(imgs))
}

func (decodeOnly) Mode() face.Mode { return face.DetectOff }

// WorkingMemory is none: decodeOnly runs no detector.
func (decodeOnly) WorkingMemory(int, int) int64 { return 0 }
