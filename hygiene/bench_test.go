package hygiene

import (
	"go/build"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheck runs the content checks over the Go sources of net/http in
// GOROOT (about 1.9 MB): code full of header names, URLs and query strings, and
// the bulk of what a directory scan feeds the checker.
func BenchmarkCheck(b *testing.B) {
	paths, err := filepath.Glob(filepath.Join(build.Default.GOROOT, "src", "net", "http", "*.go"))
	if err != nil || len(paths) == 0 {
		b.Skipf("no GOROOT sources to check (%v)", err)
	}
	files := make([][]byte, len(paths))
	var total int64
	for i, p := range paths {
		if files[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
		total += int64(len(files[i]))
	}
	c := New(DefaultConfig())
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for i, data := range files {
			c.Check(paths[i], data)
		}
	}
}
