package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/pflag"

	"github.com/agegender/agegender/internal/budget"
)

// Flag ranges. Each bound is far past any useful value and well short of
// what would exhaust the machine: --workers 100000000 once died of OOM
// allocating its channels instead of giving a usage error.
const (
	maxWorkers  = 256
	maxThreads  = 64
	minMemoryMB = 64
	maxMemoryMB = 1 << 20
	defMemoryMB = 384
	memorySlack = 128 << 20 // the engine, buffers and the collector outside the budget
	bytesPerMiB = 1 << 20
)

// runFlags are the flags of the commands that run a batch of inputs
// (predict and batch).
type runFlags struct {
	workers  int
	memoryMB int
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("parallel workers, 1..%d (default: cores / --threads, at least 1)", maxWorkers))
	fs.IntVar(&f.memoryMB, "max-memory", defMemoryMB, fmt.Sprintf(
		"MB of decoded images held at once across workers, %d..%d; a larger image is refused, others wait their turn", minMemoryMB, maxMemoryMB))
}

func (f *runFlags) validate() error {
	if f.workers < 0 || f.workers > maxWorkers {
		return usagef("--workers %d is out of range: use 1..%d, or 0 for cores / --threads", f.workers, maxWorkers)
	}
	if f.memoryMB < minMemoryMB || f.memoryMB > maxMemoryMB {
		return usagef("--max-memory %d is out of range: use %d..%d MB", f.memoryMB, minMemoryMB, maxMemoryMB)
	}
	return nil
}

// workerCount sizes the pool to the machine: each worker runs one inference
// at a time on threads ONNX Runtime threads, so unless --workers is given,
// workers × threads is the core count (--threads 4 on 16 cores: 4 workers,
// not 16 running 64 threads that fight for the cores).
func workerCount(workers, threads, cores int) int {
	if workers > 0 {
		return workers
	}
	return max(1, cores/max(1, threads))
}

// budget returns the memory budget for decoded images and sets the Go
// runtime's soft memory limit a little above it: the budget bounds what is
// live, the limit makes the collector return it before the heap doubles.
func (f *runFlags) budget() *budget.Budget {
	total := int64(f.memoryMB) * bytesPerMiB
	debug.SetMemoryLimit(total + memorySlack)
	return budget.New(total)
}
