package files

import (
	"context"
	"strings"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/source"
)

// Scan runs the file source through a content scanner of eng and checks, binary
// files skipped, as the tests of this package expect.
func Scan(ctx context.Context, eng *engine.Engine, paths []string, opts Options, checks ...pipeline.Check) *source.Result {
	res := New(paths, opts).Scan(ctx, pipeline.NewContentScanner(eng, checks, pipeline.ContentOptions{SkipBinary: true}))
	return &res
}

// skippedAs counts skipped paths whose reason starts with reason.
func skippedAs(res *source.Result, reason string) int {
	n := 0
	for _, s := range res.Skipped {
		if len(s.Reason) >= len(reason) && s.Reason[:len(reason)] == reason {
			n++
		}
	}
	return n
}

// loops counts the symlink loops warned about.
func loops(res *source.Result) int64 {
	var n int64
	for _, w := range res.Warnings {
		if strings.Contains(w, "loop") {
			n++
		}
	}
	return n
}
