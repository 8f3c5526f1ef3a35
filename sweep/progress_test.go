package sweep

import (
	"bytes"
	"strings"
	"testing"
	"time"

	gitsrc "github.com/tokenward/tokenward/source/git"
)

func TestProgress(t *testing.T) {
	reports := []RepoReport{
		{Target: Target{Name: "acme/a"}, State: StateScanned, Stats: gitsrc.Stats{BlobsScanned: 10, Cached: 2, Bytes: 3_000_000}, Findings: 2, Elapsed: time.Second},
		{Target: Target{Name: "acme/b"}, State: StateUnchanged},
		{Target: Target{Name: "acme/c"}, State: StateFailed, Detail: "cloning: repository not found"},
	}
	tests := []struct {
		tty        bool
		want, deny []string
	}{
		{
			tty: false,
			want: []string{
				"tokenward: sweep: 3 repositories\n",
				"tokenward: sweep [1/3] acme/a: scanned, 10 blobs scanned (2 cached), 3.0 MB, 2 findings in 1s\n",
				"tokenward: sweep [2/3] acme/b: unchanged\n",
				"tokenward: sweep [3/3] acme/c: failed: cloning: repository not found\n",
				"tokenward: sweep: 3 repositories (1 scanned, 1 unchanged, 1 failed), 10 blobs scanned, 2 taken from the store, 3.0 MB, 2 findings",
			},
			deny: []string{"\r", "\x1b"},
		},
		{
			tty: true,
			want: []string{
				"\r\x1b[Ksweep 1/3 repositories · 3.0 MB scanned · 2 findings · ",
				"\r\x1b[Ksweep 2/3 repositories",
				"\r\x1b[Kacme/c: failed: cloning: repository not found\n",
				"\r\x1b[Ksweep 3/3 repositories · 3.0 MB scanned · 2 findings · 0s elapsed · ETA 0s",
				"\r\x1b[Ktokenward: sweep: 3 repositories (1 scanned, 1 unchanged, 1 failed)",
			},
			deny: []string{"[1/3]"},
		},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		p := NewProgress(&b, tt.tty)
		p.Start(len(reports))
		var sum Summary
		for _, r := range reports {
			p.Done(r)
			sum.add(r)
		}
		p.Finish(sum)
		out := b.String()
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("tty=%v: output lacks %q:\n%q", tt.tty, w, out)
			}
		}
		for _, d := range tt.deny {
			if strings.Contains(out, d) {
				t.Errorf("tty=%v: output has %q:\n%q", tt.tty, d, out)
			}
		}
	}
}
