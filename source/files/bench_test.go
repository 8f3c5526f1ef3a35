package files

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchTree writes a tree shaped like a source checkout: 1,000 text files whose
// sizes spread log-uniformly from 100 B to 256 KiB (mean about 32 KiB), two
// binary files and one file over memLimit, in 40 directories. It returns the
// directory and the number of bytes written.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	line := "\tif err := fmt.Errorf(\"value %d of %s\", i, name); err != nil { return err } // comment\n"
	var total int64
	writeFile := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	for i := range 1000 {
		size := int(100 * math.Pow(2560, rng.Float64()))
		text := strings.Repeat(line, size/len(line)+1)[:size]
		if i%100 == 0 {
			text += "\n" + header + "\n"
		}
		writeFile(fmt.Sprintf("d%02d/f%04d.go", i%40, i), []byte(text))
	}
	writeFile("bin/a.bin", append([]byte{0x7f, 'E', 'L', 'F', 0}, make([]byte, 50000)...))
	writeFile("bin/b.png", append([]byte{0x89, 'P', 'N', 'G', 0}, make([]byte, 3000)...))
	writeFile("big/large.txt", []byte(strings.Repeat(line, (memLimit+memLimit/2)/len(line))))
	return dir, total
}

// BenchmarkScanDir measures the file source on a tree held in the page cache:
// walk, open, read, binary sniffing and the engine, with two workers.
func BenchmarkScanDir(b *testing.B) {
	dir, total := benchTree(b)
	eng := testEngine(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		res := Scan(context.Background(), eng, []string{dir}, Options{Workers: 2})
		if len(res.Findings) != 10 || len(res.Problems) != 0 || skippedAs(res, "binary") != 2 {
			b.Fatalf("findings %d problems %v binary %d", len(res.Findings), res.Problems, skippedAs(res, "binary"))
		}
	}
}
