package finding

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

func randomSecrets(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 40)
		for j := range b {
			b[j] = alpha[r.IntN(len(alpha))]
		}
		out[i] = "ghp_" + string(b)
	}
	return out
}

// BenchmarkRedactor measures building a run's Redactor (every form of n
// secrets) and redacting 1 MiB of report text with it.
func BenchmarkRedactor(b *testing.B) {
	text := strings.Repeat(`{"rule_id":"github-pat","file":"src/app/config.go","line":12,"context":"token: ghp_…Q9xz"}`+"\n", 1<<20/92)
	for _, n := range []int{10, 1000, 10000} {
		secrets := randomSecrets(n)
		b.Run(fmt.Sprintf("build/secrets=%d", n), func(b *testing.B) {
			for b.Loop() {
				NewRedactor(secrets...)
			}
		})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewRedactor(secrets...)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.Run(fmt.Sprintf("redact-1MiB/secrets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				r.Redact(text)
			}
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "redactor-MiB")
		})
	}
}
