package engine_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/rules"
)

// catalogueFile is one text file of the catalogue-cost corpus.
type catalogueFile struct {
	path string // relative to the corpus root, as a directory scan reports it
	data []byte
}

var (
	catalogueOnce  sync.Once
	catalogueFiles []catalogueFile
	catalogueSize  int64
	catalogueRoot  string
)

// catalogueCorpus loads every text file under $TOKENWARD_BENCH_CORPUS, else
// /tmp/corpus, else $(go env GOROOT)/src, once per test binary.
func catalogueCorpus(b *testing.B) ([]catalogueFile, int64) {
	b.Helper()
	catalogueOnce.Do(func() {
		catalogueRoot = os.Getenv("TOKENWARD_BENCH_CORPUS")
		if catalogueRoot == "" {
			if st, err := os.Stat("/tmp/corpus"); err == nil && st.IsDir() {
				catalogueRoot = "/tmp/corpus"
			} else if goroot, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
				catalogueRoot = filepath.Join(strings.TrimSpace(string(goroot)), "src")
			}
		}
		if catalogueRoot == "" {
			return
		}
		filepath.WalkDir(catalogueRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil || engine.IsBinary(data) {
				return nil
			}
			rel, _ := filepath.Rel(catalogueRoot, p)
			catalogueFiles = append(catalogueFiles, catalogueFile{filepath.ToSlash(rel), data})
			catalogueSize += int64(len(data))
			return nil
		})
	})
	if catalogueSize == 0 {
		b.Skipf("no corpus (set TOKENWARD_BENCH_CORPUS, or provide /tmp/corpus or GOROOT/src)")
	}
	return catalogueFiles, catalogueSize
}

// seedRuleFiles are the rule files of the "seed" set: the original rules and
// the GitHub family, the catalogue the engine was first tuned on.
var seedRuleFiles = []string{"seed.toml", "github.toml"}

// loadRuleFiles compiles the named built-in rule files afresh (nil: all of them), so
// that each benchmark iteration pays the lazy regex compilation a scan process pays.
func loadRuleFiles(b *testing.B, names []string) *rules.Set {
	b.Helper()
	if names == nil {
		set, err := rules.LoadBuiltinFresh()
		if err != nil {
			b.Fatal(err)
		}
		return set
	}
	set := &rules.Set{}
	for _, name := range names {
		path := filepath.Join("..", "rules", "builtin", name)
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		p, err := rules.Parse(path, data)
		if err != nil {
			b.Fatal(err)
		}
		set.Rules = append(set.Rules, p.Rules()...)
	}
	return set
}

// processCPU returns the user+system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCatalogueCost measures what the rule catalogue costs the engine: one
// goroutine scans every text file of the corpus (GOROOT/src, held in memory) with
// the seed rules and with every built-in rule. Each iteration starts from freshly
// loaded rules, so the automaton build and the lazy regex compilation are counted;
// decoding the TOML is not (BenchmarkStartup measures it). The catalogue cost is
// seed MB/s / all MB/s - 1 (issue 3: at most 20%); on a loaded machine compare
// cpu-MB/s, the throughput per CPU-second.
//
//	go test ./engine -run xxx -bench CatalogueCost -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
func BenchmarkCatalogueCost(b *testing.B) {
	for _, bc := range []struct {
		name  string
		files []string
	}{
		{"seed", seedRuleFiles},
		{"all", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			files, size := catalogueCorpus(b)
			b.SetBytes(size)
			b.ResetTimer()
			findings := 0
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				set := loadRuleFiles(b, bc.files)
				eng, err := engine.New(set, engine.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				c0 := processCPU(b)
				findings = 0
				for _, f := range files {
					findings += len(eng.ScanBytes(f.path, f.data))
				}
				cpu += processCPU(b) - c0
			}
			b.ReportMetric(float64(findings), "findings")
			// CPU time (user+system, all threads: GC included) is steadier than wall
			// time on a shared machine.
			b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(size)/1e6/(cpu.Seconds()/float64(b.N)), "cpu-MB/s")
		})
	}
}
