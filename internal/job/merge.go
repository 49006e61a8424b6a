package job

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/agegender/agegender/internal/input"
	"github.com/agegender/agegender/internal/report"
	"github.com/agegender/agegender/internal/safeio"
	"github.com/agegender/agegender/internal/storage"
)

// Shard is one shard output to merge: its name, for messages, and its
// records.
type Shard struct {
	Name    string
	Records report.Records
}

// shardHead is a shard being read, one record ahead.
type shardHead struct {
	Shard
	head *report.Record // nil once the shard is exhausted
	// prev and prevLine are the key and line of the record before head,
	// to name a repeated row.
	prev     string
	prevLine int
}

// Merge writes to w, in the order of inputs, each input's records from the
// one shard that holds them next, and returns how many inputs it merged: the
// output one unsharded run would have written, byte for byte. It refuses,
// naming the input and the shards, an input with records in two shards or
// in none, records for inputs the listing does not have, a duplicated
// record, and a shard whose last record was cut short. w may hold a partial
// output when it fails.
func Merge(inputs iter.Seq[input.Input], shards []Shard, format report.Format, w io.Writer) (int, error) {
	spec, err := report.Lookup(format)
	if err != nil {
		return 0, err
	}
	heads := make([]*shardHead, len(shards))
	for i, s := range shards {
		heads[i] = &shardHead{Shard: s}
		if err := heads[i].advance(); err != nil {
			return 0, err
		}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(spec.Header)
	n := 0
	for in := range inputs {
		from, err := holder(heads, spec.Key(in.Name), in.Name, format)
		if err != nil {
			return n, err
		}
		// Each input is flushed whole, so that a merge to stdout streams
		// and one refused midway shows how far it got.
		if _, err = bw.Write(from.head.Bytes); err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return n, fmt.Errorf("write merged output: %w", err)
		}
		// A row repeated in a shard is left at its head, where it matches
		// the next input only if the listing repeats it too (a path given
		// twice); otherwise the next input or the end reports it.
		if err := from.advance(); err != nil {
			return n, err
		}
		n++
	}
	for _, s := range heads {
		if s.head != nil {
			return n, strayRecord(s.Name, *s.head, s.dupOf(), "", format, nil)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write merged output: %w", err)
	}
	return n, nil
}

// RunMerge merges the shard outputs at paths, in format (SniffFormat's),
// into out as Merge does, and ends out as Run ends its output: Commit once
// every input is merged, Abort otherwise, so that a refused merge leaves no
// file.
func RunMerge(ctx context.Context, bs *storage.Buckets, paths []string, format report.Format, inputs iter.Seq[input.Input], out Output) (n int, err error) {
	shards, closeAll, err := OpenShards(ctx, bs, format, paths)
	defer closeAll()
	if err == nil {
		n, err = Merge(inputs, shards, format, out)
	}
	if err != nil {
		return n, errors.Join(err, out.Abort(ctx))
	}
	return n, out.Commit(ctx)
}

// holder is the one shard whose next record is the input's (key).
func holder(heads []*shardHead, key, input string, format report.Format) (*shardHead, error) {
	var from *shardHead
	for _, s := range heads {
		if s.head == nil || s.head.Key != key {
			continue
		}
		if from != nil {
			return nil, fmt.Errorf("%s has rows in both %s and %s; a file given twice, or shards of two different splits", input, from.Name, s.Name)
		}
		from = s
	}
	if from != nil {
		return from, nil
	}
	for _, s := range heads {
		if dup := s.dupOf(); dup > 0 {
			return nil, strayRecord(s.Name, *s.head, dup, key, format, nil)
		}
	}
	return nil, &UnfinishedShardError{Input: input, Heads: headList(heads)}
}

// dupOf is the line of the record before head when head repeats its input.
func (s *shardHead) dupOf() int {
	if s.head != nil && s.prevLine > 0 && s.head.Key == s.prev {
		return s.prevLine
	}
	return 0
}

func (s *shardHead) advance() error {
	if s.head != nil {
		s.prev, s.prevLine = s.head.Key, s.head.LineNo
	}
	rec, err := s.Records.Next()
	switch {
	case errors.Is(err, io.EOF):
		s.head = nil
		return nil
	case errors.Is(err, report.ErrTorn):
		return &TornShardError{Shard: s.Name, Err: err}
	case err != nil:
		return err
	}
	s.head = &rec
	return nil
}

func headList(heads []*shardHead) string {
	var parts []string
	for _, s := range heads {
		h := "(none left)"
		if s.head != nil {
			h = fmt.Sprintf("%q", s.head.Key)
		}
		parts = append(parts, s.Name+": "+h)
	}
	return strings.Join(parts, "; ")
}

// SniffFormat recognises the format of the shard outputs by their first
// bytes (report.Recognise) and refuses a mix. Empty files (a shard with no
// inputs) fit any; with nothing but them, it is JSON Lines.
func SniffFormat(ctx context.Context, bs *storage.Buckets, names []string) (report.Format, error) {
	var format report.Format
	var first string
	for _, p := range names {
		f, err := openShard(ctx, bs, p)
		if err != nil {
			return "", err
		}
		head := make([]byte, sniffLen)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if n == 0 {
			continue
		}
		spec, ok := report.Recognise(head[:n])
		if !ok {
			return "", &UnmergeableError{Path: p}
		}
		ff := spec.Name
		if format != "" && ff != format {
			return "", fmt.Errorf("%s is %s but %s is %s; shard outputs must share one format", p, ff, first, format)
		}
		format, first = ff, p
	}
	if format == "" {
		format = report.FormatJSONL
	}
	return format, nil
}

// sniffLen is how much of a file a format is recognised by.
const sniffLen = 512

// OpenShards opens the shard outputs at paths for Merge. closeAll closes
// the ones opened, also after an error.
func OpenShards(ctx context.Context, bs *storage.Buckets, format report.Format, paths []string) (shards []Shard, closeAll func(), err error) {
	var opened []io.Closer
	closeAll = func() {
		for _, c := range opened {
			c.Close()
		}
	}
	for _, p := range paths {
		f, err := openShard(ctx, bs, p)
		if err != nil {
			return nil, closeAll, err
		}
		opened = append(opened, f)
		r, err := report.NewRecordReader(format, bufio.NewReaderSize(f, 256<<10), p)
		if err != nil {
			return nil, closeAll, err
		}
		shards = append(shards, Shard{Name: p, Records: r})
	}
	return shards, closeAll, nil
}

// openShard opens a shard output: a local file, or an s3:// or gs:// object
// through bs.
func openShard(ctx context.Context, bs *storage.Buckets, name string) (io.ReadCloser, error) {
	if storage.IsURL(name) {
		r, err := storage.Open(ctx, bs, name)
		if err != nil {
			return nil, fmt.Errorf("shard output: %w", err)
		}
		return r, nil
	}
	local, err := storage.LocalPath(name)
	if err != nil {
		return nil, err
	}
	f, err := safeio.Open(local)
	if err != nil {
		return nil, fmt.Errorf("shard output: %w", err)
	}
	return safeio.NewIdleReadCloser(ctx, f, safeio.DefaultIdle), nil
}
