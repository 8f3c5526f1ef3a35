package sweep

import (
	"context"
	"fmt"
	"testing"

	"github.com/tokenward/tokenward/sweep/sweeptest"
)

// BenchmarkSweepGitHubComments: a first sweep of 2000 issue comments (20
// pages, one planted token), and an unchanged re-sweep (one request per
// listing), against the loopback fake.
func BenchmarkSweepGitHubComments(b *testing.B) {
	for _, resweep := range []bool{false, true} {
		name := "first"
		if resweep {
			name = "unchanged"
		}
		b.Run(name, func(b *testing.B) {
			f := newFakeForge(b)
			for i := range 2000 {
				body := fmt.Sprintf("Thanks, this fixes the build on arm64 (%d).\nSee the logs above; retrying.\n", i)
				if i == 1234 {
					body = sweeptest.SecretLine("bench")
				}
				f.items = append(f.items, ghItem{kind: "issue-comment", number: 2, id: int64(i), body: body, updated: fmt.Sprintf("2026-01-%02dT00:00:00Z", 1+i/100)})
			}
			var requests int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				cfg := itemsConfig(b, b.TempDir())
				l, err := ListGitHubForge(context.Background(), GitHubOptions{API: f.api.URL, Org: "acme", Limits: fastLimits(), Include: Include{Comments: true}})
				if err != nil {
					b.Fatal(err)
				}
				if resweep {
					RunItems(context.Background(), cfg, l.Collections, nil)
				}
				f.resetLog()
				b.StartTimer()
				sum := RunItems(context.Background(), cfg, l.Collections, nil)
				b.StopTimer()
				if sum.Failed != 0 || (!resweep && sum.Findings != 1) {
					b.Fatalf("%+v", sum)
				}
				requests = f.count("api ")
				cfg.Store.Close()
			}
			b.ReportMetric(float64(requests), "requests/op")
		})
	}
}
