package engine_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/rules"
)

// corpus loads up to limit bytes of Go source from GOROOT/src: a fixed, real corpus
// that every machine with Go has.
func corpus(b *testing.B, limit int) [][]byte {
	b.Helper()
	var out [][]byte
	total := 0
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("go env GOROOT:", err)
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || total >= limit {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || engine.IsBinary(data) {
			return nil
		}
		out = append(out, data)
		total += len(data)
		return nil
	})
	if total == 0 {
		b.Skip("no GOROOT/src")
	}
	return out
}

// BenchmarkEngine measures engine throughput (MB/s) with every built-in rule on
// 64 MB of GOROOT/src, after one untimed pass (so lazy regex compilation, a fixed
// cost per process, is not in the figure). Each pass starts with an empty window
// cache (a real scan reads its corpus once).
func BenchmarkEngine(b *testing.B) {
	eng := enginetest.Builtin(b)
	files := corpus(b, 64<<20)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	for _, f := range files { // builds the automaton and compiles the regexes that fire
		eng.ScanBytes("f.go", f)
	}
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		eng.ForgetWindows()
		for _, f := range files {
			eng.ScanBytes("f.go", f)
		}
	}
	reportCPU(b, size, cpu0)
}

// cpuTime is the CPU time this process has used. On a machine shared with other
// jobs, wall-clock ns/op varies with their load; CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-MB/s metric: bytes processed per second of CPU time used
// since cpu0, garbage collection included.
func reportCPU(b *testing.B, size int64, cpu0 time.Duration) {
	if d := cpuTime() - cpu0; d > 0 && cpu0 > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}

// BenchmarkStartup measures loading every built-in rule and building the anchor
// automaton (regexes compile later, on a rule's first anchor hit).
func BenchmarkStartup(b *testing.B) {
	for range b.N {
		set, err := rules.LoadBuiltinFresh()
		if err != nil {
			b.Fatal(err)
		}
		eng, err := engine.New(set, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		eng.ScanBytes("x", []byte("x")) // builds the automaton

	}
}
