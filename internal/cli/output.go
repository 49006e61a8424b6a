package cli

import "strings"

// checkOutputFlags refuses an output path that starts with '-' (other than
// "-", stdout): pflag takes the word after --jsonl as its value even when it
// is the next flag, so `batch DIR --jsonl --quiet` wrote a file named
// "--quiet" and dropped --quiet. A file that really starts with '-' can be
// named ./-x. flags maps each flag's name to its value; empty values are unset.
func checkOutputFlags(flags ...[2]string) error {
	for _, f := range flags {
		name, v := f[0], f[1]
		if v != "-" && strings.HasPrefix(v, "-") {
			return usagef("--%s %q: an output path that starts with '-' looks like a flag; for a file of that name write ./%s", name, v, v)
		}
	}
	return nil
}
