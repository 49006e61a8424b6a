package shard

import (
	"fmt"
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// Every name lands in exactly one shard, and the shards are not lopsided.
func TestPartition(t *testing.T) {
	for _, n := range []int{1, 3, 7} {
		counts := make([]int, n)
		for k := 0; k < 7000; k++ {
			rel := fmt.Sprintf("dir%d/%d_0_1_2017.jpg", k%13, k)
			owners := 0
			for i := 0; i < n; i++ {
				if (Spec{i, n}).Has(rel) {
					owners++
					counts[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("%s is in %d of %d shards", rel, owners, n)
			}
		}
		for i, c := range counts {
			if want := 7000 / n; c < want*8/10 || c > want*12/10 {
				t.Errorf("N=%d: shard %d holds %d of 7000", n, i, c)
			}
		}
	}
	// The documented hash: FNV-1a 64 of the bytes; pins the split across versions.
	if got := (Spec{Index: 2, Count: 3}).Has("a.jpg"); got != (0x4c079bb53aa9b7c1%3 == 2) {
		t.Errorf("a.jpg's shard changed")
	}
}

func TestParse(t *testing.T) {
	if s, err := parse("2/7"); err != nil || s != (Spec{2, 7}) {
		t.Errorf("2/7: %v %v", s, err)
	}
	for _, bad := range []string{"7/7", "-1/3", "1/0", "1", "a/3", "1/x", "0/2000000"} {
		if _, err := parse(bad); err == nil || !strings.Contains(err.Error(), "--shard") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		name  string
		env   func(string) string
		count int
		want  Spec
		found bool
		err   string // substring of the error; "" for none
	}{
		{"nothing", env(), 0, all, false, ""},
		{"k8s with flag count", env(envJobIndex, "2"), 4, Spec{2, 4}, true, ""},
		{"k8s with env count", env(envJobIndex, "3", envCount, "4"), 0, Spec{3, 4}, true, ""},
		{"k8s flag beats env count", env(envJobIndex, "3", envCount, "2"), 4, Spec{3, 4}, true, ""},
		{"k8s without count", env(envJobIndex, "2"), 0, Spec{}, false, envCount},
		{"k8s out of range", env(envJobIndex, "4", envCount, "4"), 0, Spec{}, false, envJobIndex},
		{"k8s not a number", env(envJobIndex, "two", envCount, "4"), 0, Spec{}, false, envJobIndex},
		{"bad count", env(envJobIndex, "0", envCount, "0"), 0, Spec{}, false, envCount},
		{"slurm from 0", env(envSlurmID, "0", envSlurmCount, "3", envSlurmMin, "0"), 0, Spec{0, 3}, true, ""},
		{"slurm from 1", env(envSlurmID, "3", envSlurmCount, "3", envSlurmMin, "1"), 0, Spec{2, 3}, true, ""},
		{"slurm stepped", env(envSlurmID, "8", envSlurmCount, "4", envSlurmMin, "0", envSlurmStep, "4"), 0, Spec{2, 4}, true, ""},
		{"slurm uneven step", env(envSlurmID, "6", envSlurmCount, "4", envSlurmMin, "0", envSlurmStep, "4"), 0, Spec{}, false, envSlurmStep},
		{"slurm list beyond count", env(envSlurmID, "9", envSlurmCount, "3", envSlurmMin, "1"), 0, Spec{}, false, envSlurmID},
		{"slurm without count", env(envSlurmID, "1"), 0, Spec{}, false, envSlurmCount},
		{"slurm count disagrees", env(envSlurmID, "1", envSlurmCount, "3"), 4, Spec{}, false, envSlurmCount},
		{"both agree", env(envJobIndex, "1", envSlurmID, "1", envSlurmCount, "3"), 3, Spec{1, 3}, true, ""},
		{"both disagree", env(envJobIndex, "0", envSlurmID, "1", envSlurmCount, "3"), 3, Spec{}, false, "ambiguous"},
		// An index set empty (or blank) beside a count once ran every input.
		{"k8s empty index", env(envJobIndex, "", envCount, "4"), 0, Spec{}, false, "AGEGENDER_SHARD_COUNT=4 gives a shard count but JOB_COMPLETION_INDEX, the index, is empty or unset"},
		{"k8s blank index", env(envJobIndex, " ", envCount, "4"), 0, Spec{}, false, "JOB_COMPLETION_INDEX, the index, is empty"},
		{"slurm empty id", env(envSlurmID, "", envSlurmCount, "3"), 0, Spec{}, false, "SLURM_ARRAY_TASK_COUNT=3 gives a shard count but SLURM_ARRAY_TASK_ID, the index, is empty or unset"},
	} {
		s, from, found, err := fromEnv(c.env, c.count)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err %v, want one naming %s", c.name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == "" && (s != c.want || found != c.found):
			t.Errorf("%s: %v found %v, want %v %v", c.name, s, found, c.want, c.found)
		case found && from == "":
			t.Errorf("%s: no source named", c.name)
		}
	}
}

func TestResolve(t *testing.T) {
	k8s := env(envJobIndex, "2", envCount, "4")
	for _, c := range []struct {
		name, flag string
		count      int
		env        func(string) string
		want       Spec
		from, err  string
	}{
		{"the flag wins", "1/3", 0, k8s, Spec{1, 3}, "", ""},
		{"the environment", "", 0, k8s, Spec{2, 4}, envJobIndex, ""},
		{"nothing set", "", 0, env(), all, "", ""},
		{"a count without an index", "", 4, env(), Spec{}, "", "--shard-count 4 needs " + envJobIndex},
		{"a count out of range", "", -1, env(), Spec{}, "", "--shard-count -1: must be 1.."},
		{"a bad flag", "3/3", 0, env(), Spec{}, "", "the shard index must be 0..2"},
	} {
		s, from, err := Resolve(c.flag, c.count, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || s != c.want || !strings.Contains(from, c.from) || (c.from == "") != (from == "") {
			t.Errorf("%s: %v from %q, %v; want %v from %q", c.name, s, from, err, c.want, c.from)
		}
	}
}
