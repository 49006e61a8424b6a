// Package shard splits a batch's inputs among N processes that each run the
// same command line: a Kubernetes Indexed Job, a Slurm job array, or a loop.
//
// An input belongs to shard FNV-1a-64(rel) mod N, where rel is its path
// relative to the argument it was found under (slash-separated; a file named
// directly is its base name). The split depends on nothing but the names, so
// every process computes the same one whatever order its listing comes in,
// and wherever the data is mounted or which bucket prefix holds it.
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Spec is one shard of Count: Index in [0, Count).
type Spec struct {
	Index, Count int
}

// all is the whole input: one shard of one.
var all = Spec{Index: 0, Count: 1}

// Has reports whether the input at rel belongs to this shard.
func (s Spec) Has(rel string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(rel))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// maxCount bounds N: far more shards than any cluster runs is a typo.
const maxCount = 1 << 20

// parse reads "I/N", as --shard takes it.
func parse(v string) (Spec, error) {
	i, n, ok := strings.Cut(v, "/")
	if !ok {
		return Spec{}, fmt.Errorf("--shard %q: want INDEX/COUNT, e.g. 0/8", v)
	}
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Spec{}, fmt.Errorf("--shard %q: want INDEX/COUNT as whole numbers, e.g. 0/8", v)
	}
	return check(index, count, "--shard "+v)
}

func check(index, count int, source string) (Spec, error) {
	if count < 1 || count > maxCount {
		return Spec{}, fmt.Errorf("%s: the shard count must be 1..%d, got %d", source, maxCount, count)
	}
	if index < 0 || index >= count {
		return Spec{}, fmt.Errorf("%s: the shard index must be 0..%d for %d shards, got %d", source, count-1, count, index)
	}
	return Spec{Index: index, Count: count}, nil
}

// Resolve picks a run's shard: flag (--shard) when given, else the
// scheduler's variables, with count (--shard-count, 0 when not given). from
// says where a shard taken from the environment came from, "" otherwise,
// for the notice the caller prints: a job array that runs batch for other
// reasons would otherwise drop inputs silently.
func Resolve(flag string, count int, getenv func(string) string) (s Spec, from string, err error) {
	if flag != "" {
		s, err := parse(flag)
		return s, "", err
	}
	if count < 0 || count > maxCount {
		return Spec{}, "", fmt.Errorf("--shard-count %d: must be 1..%d", count, maxCount)
	}
	s, from, found, err := fromEnv(getenv, count)
	if err != nil {
		return Spec{}, "", err
	}
	if !found && count != 0 {
		return Spec{}, "", fmt.Errorf("--shard-count %d needs %s (a Kubernetes Indexed Job) for the index; or pass --shard I/N", count, envJobIndex)
	}
	return s, from, nil
}

// Environment variables read by fromEnv.
const (
	// envJobIndex is set by Kubernetes in each pod of an Indexed Job.
	envJobIndex = "JOB_COMPLETION_INDEX"
	// envCount gives the shard count where the scheduler does not (an
	// Indexed Job's .spec.completions); --shard-count takes precedence.
	envCount = "AGEGENDER_SHARD_COUNT"
	// Slurm job arrays: the task's id, the array's count, lowest id and step.
	envSlurmID    = "SLURM_ARRAY_TASK_ID"
	envSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	envSlurmMin   = "SLURM_ARRAY_TASK_MIN"
	envSlurmStep  = "SLURM_ARRAY_TASK_STEP"
)

// fromEnv finds the shard a scheduler gave this process. count is
// --shard-count (0 when not given). found is false when no scheduler
// variable is set: the run is not sharded. from says where the shard came
// from, for the notice the caller prints.
//
// Kubernetes: JOB_COMPLETION_INDEX is the index, and the count is
// --shard-count or AGEGENDER_SHARD_COUNT (Kubernetes does not export
// .spec.completions). Slurm: the index is (SLURM_ARRAY_TASK_ID -
// SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, so --array=1-8 and
// --array=0-28:4 both give 0..N-1, and the count is SLURM_ARRAY_TASK_COUNT.
// Both set and disagreeing, a count given twice that disagrees, or an index
// out of range is an error naming the variables.
func fromEnv(getenv func(string) string, count int) (s Spec, from string, found bool, err error) {
	if count == 0 {
		if v := getenv(envCount); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return Spec{}, "", false, fmt.Errorf("%s=%q: not a whole number", envCount, v)
			}
			if n < 1 {
				return Spec{}, "", false, fmt.Errorf("%s=%q: the shard count must be at least 1", envCount, v)
			}
			count = n
		}
	}
	k8s, k8sFrom, k8sOK, err := fromKubernetes(getenv, count)
	if err != nil {
		return Spec{}, "", false, err
	}
	slurm, slurmFrom, slurmOK, err := fromSlurm(getenv, count)
	if err != nil {
		return Spec{}, "", false, err
	}
	switch {
	case k8sOK && slurmOK && k8s != slurm:
		return Spec{}, "", false, fmt.Errorf("ambiguous shard: %s gives %v but %s gives %v; unset one, or pass --shard", k8sFrom, k8s, slurmFrom, slurm)
	case k8sOK:
		return k8s, k8sFrom, true, nil
	case slurmOK:
		return slurm, slurmFrom, true, nil
	}
	return all, "", false, countWithoutIndex(getenv)
}

// countWithoutIndex fails when a scheduler's shard count is set but no
// index is: an index set empty by a broken template once ran every shard
// on all the inputs, silently. --shard-count alone is Resolve's to check.
func countWithoutIndex(getenv func(string) string) error {
	for _, c := range []struct{ count, index string }{
		{envCount, envJobIndex},
		{envSlurmCount, envSlurmID},
	} {
		if v := strings.TrimSpace(getenv(c.count)); v != "" {
			return fmt.Errorf("%s=%s gives a shard count but %s, the index, is empty or unset; set it, or pass --shard", c.count, v, c.index)
		}
	}
	return nil
}

func envInt(getenv func(string) string, name string) (n int, set bool, err error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil {
		return 0, true, fmt.Errorf("%s=%q: not a whole number", name, v)
	}
	return n, true, nil
}

func fromKubernetes(getenv func(string) string, count int) (Spec, string, bool, error) {
	index, set, err := envInt(getenv, envJobIndex)
	if err != nil || !set {
		return Spec{}, "", false, err
	}
	if count == 0 {
		return Spec{}, "", false, fmt.Errorf("%s=%d is set but not the shard count: pass --shard-count or set %s to the Job's completions", envJobIndex, index, envCount)
	}
	from := fmt.Sprintf("%s=%d of %d", envJobIndex, index, count)
	s, err := check(index, count, from)
	return s, from, err == nil, err
}

func fromSlurm(getenv func(string) string, count int) (Spec, string, bool, error) {
	id, set, err := envInt(getenv, envSlurmID)
	if err != nil || !set {
		return Spec{}, "", false, err
	}
	n, nSet, err := envInt(getenv, envSlurmCount)
	if err != nil {
		return Spec{}, "", false, err
	}
	if !nSet {
		return Spec{}, "", false, fmt.Errorf("%s=%d is set but %s is not", envSlurmID, id, envSlurmCount)
	}
	if count != 0 && count != n {
		return Spec{}, "", false, fmt.Errorf("%s=%d disagrees with the shard count %d (--shard-count or %s)", envSlurmCount, n, count, envCount)
	}
	low, _, err := envInt(getenv, envSlurmMin)
	if err != nil {
		return Spec{}, "", false, err
	}
	step, stepSet, err := envInt(getenv, envSlurmStep)
	if err != nil {
		return Spec{}, "", false, err
	}
	if !stepSet {
		step = 1
	}
	from := fmt.Sprintf("%s=%d of %s=%d (%s=%d, step %d)", envSlurmID, id, envSlurmCount, n, envSlurmMin, low, step)
	if step < 1 || (id-low)%step != 0 {
		return Spec{}, "", false, fmt.Errorf("%s: the task ids are not an evenly stepped range (%s=%d); use --array=0-%d, or pass --shard", from, envSlurmStep, step, n-1)
	}
	s, err := check((id-low)/step, n, from)
	return s, from, err == nil, err
}
