package sweep

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress observes a sweep. Done is called once per repository, from several
// goroutines.
type Progress interface {
	Start(total int)
	Done(r RepoReport)
	Finish(s Summary)
}

type nopProgress struct{}

func (nopProgress) Start(int)       {}
func (nopProgress) Done(RepoReport) {}
func (nopProgress) Finish(Summary)  {}

// NewProgress reports to w: on a terminal (tty) one status line redrawn in place
// (repositories done/total, MB scanned, findings, ETA) with problems printed
// above it; otherwise one plain log line per repository.
func NewProgress(w io.Writer, tty bool) Progress {
	p := &progress{w: w, tty: tty, start: time.Now()}
	return p
}

type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	start time.Time
	total int
	sum   Summary
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (p *progress) Start(total int) {
	p.mu.Lock()
	p.total, p.start, p.sum = total, time.Now(), Summary{}
	p.mu.Unlock()
	if !p.tty {
		fmt.Fprintf(p.w, "tokenward: sweep: %s\n", plural(total, "repository", "repositories"))
		return
	}
	p.stop = make(chan struct{})
	p.wg.Add(1)
	go func() { // keep elapsed time and ETA moving during long repositories
		defer p.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.status()
				p.mu.Unlock()
			}
		}
	}()
}

func (p *progress) Done(r RepoReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sum.add(r)
	n := p.sum.Repos
	if p.tty {
		if r.State == StateFailed || r.State == StateIncomplete {
			fmt.Fprintf(p.w, "\r\x1b[K%s: %s: %s\n", r.Target.Name, r.State, r.Detail)
		}
		p.status()
		return
	}
	fmt.Fprintf(p.w, "tokenward: sweep [%d/%d] %s: %s\n", n, p.total, r.Target.Name, describe(r))
}

func describe(r RepoReport) string {
	switch r.State {
	case StateUnchanged:
		return "unchanged"
	case StateAbsent:
		return "absent: " + r.Detail
	case StateFailed:
		return "failed: " + r.Detail
	}
	s := fmt.Sprintf("%s, %s scanned (%d cached), %s, %s in %s", r.State, plural(r.Stats.BlobsScanned, "blob", "blobs"),
		r.Stats.Cached, mb(r.Stats.Bytes), plural(r.Findings, "finding", "findings"), r.Elapsed.Round(time.Millisecond))
	if r.State == StateIncomplete {
		s += ": " + r.Detail
	}
	return s
}

// status redraws the terminal line (mu held).
func (p *progress) status() {
	el := time.Since(p.start)
	eta := "?"
	if n := p.sum.Repos; n > 0 && n < p.total {
		eta = (time.Duration(float64(el) / float64(n) * float64(p.total-n))).Round(time.Second).String()
	} else if n >= p.total {
		eta = "0s"
	}
	fmt.Fprintf(p.w, "\r\x1b[Ksweep %d/%d repositories · %s scanned · %s · %s elapsed · ETA %s",
		p.sum.Repos, p.total, mb(p.sum.Bytes), plural(p.sum.Findings, "finding", "findings"), el.Round(time.Second), eta)
}

func (p *progress) Finish(s Summary) {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "tokenward: sweep: %s\n", SummaryLine(s))
}

// SummaryLine describes a finished sweep in one line.
func SummaryLine(s Summary) string {
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{s.Scanned, "scanned"}, {s.Unchanged, "unchanged"}, {s.Incomplete, "incomplete"}, {s.Failed, "failed"}, {s.Absent, "absent"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	line := plural(s.Repos, "repository", "repositories")
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	line += fmt.Sprintf(", %s scanned, %d taken from the store, %s, %s in %s",
		plural(s.BlobsScanned, "blob", "blobs"), s.BlobsCached, mb(s.Bytes), plural(s.Findings, "finding", "findings"), s.Elapsed.Round(time.Millisecond))
	if s.Interrupted {
		line += "; interrupted: run again to resume"
	}
	return line
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
