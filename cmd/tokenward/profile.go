package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startProfile writes a CPU profile to $TOKENWARD_CPUPROFILE and a heap profile
// taken at the peak of the heap to $TOKENWARD_MEMPROFILE when set (for
// performance work; see bench/).
func startProfile(_ []string) func() {
	stopMem := startMemProfile(os.Getenv("TOKENWARD_MEMPROFILE"))
	path := os.Getenv("TOKENWARD_CPUPROFILE")
	if path == "" {
		return stopMem
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenward: cpu profile:", err)
		return stopMem
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "tokenward: cpu profile:", err)
		f.Close()
		return stopMem
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		stopMem()
	}
}

// startMemProfile samples the heap every 50 ms and, each time it has grown 10%
// past its largest size so far, rewrites path with a heap profile.
func startMemProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse < peak+peak/10 {
				continue
			}
			peak = ms.HeapInuse
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}()
	return func() { close(done); <-stopped }
}
