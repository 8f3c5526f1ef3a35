package git

import "github.com/go-git/go-git/v5/plumbing"

// prefetch reads trees ahead of the history walk, on a goroutine of its own. For
// each commit found, in order, it sends the commit and then the trees that
// walkTree reads for it, in the order walkTree meets them (each tree once, depth
// first, entries in tree order). The walk takes each commit with next and each
// tree with readTree instead of reading it; while the prefetcher runs, it alone
// uses the session's object store. Should the walk ever want another tree than
// the next one sent, the prefetcher is stopped and the walk reads for itself.
type prefetch struct {
	ch     chan fetched
	stop   chan struct{}
	done   chan struct{}
	off    bool          // stopped: the walk reads for itself
	recv   []*commitInfo // commits the prefetcher took from found (its own until done)
	walked int           // commits the walk took with next
	taken  []*commitInfo // after halt: recv[walked:], commits left to walk
}

// prefetchDiverge, when set by a test, makes the prefetcher send a wrong tree
// as its prefetchDiverge-th, so that the walk falls back to reading itself.
var prefetchDiverge int

type fetched struct {
	c    *commitInfo // a commit (then h, data and err are unset)
	h    plumbing.Hash
	data []byte
	err  error
}

func (s *session) startPrefetch(found <-chan *commitInfo) *prefetch {
	pf := &prefetch{ch: make(chan fetched, 256), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pf.done)
		defer close(pf.ch)
		seen := map[plumbing.Hash]bool{}
		sent := 0
		send := func(f fetched) bool {
			select {
			case pf.ch <- f:
				return true
			case <-pf.stop:
				return false
			}
		}
		var walk func(h plumbing.Hash) bool
		walk = func(h plumbing.Hash) bool {
			if seen[h] {
				return true
			}
			seen[h] = true
			data, err := s.rp.readTreeRaw(h)
			sent++
			f := fetched{h: h, data: data, err: err}
			if sent == prefetchDiverge {
				f.h = plumbing.Hash{} // a test's: not the tree the walk wants
			}
			if !send(f) {
				return false
			}
			for err == nil && len(data) > 0 {
				var e rawEntry
				if e, data, err = nextEntry(data); err != nil {
					break
				}
				if e.isDir() && !walk(e.hash) {
					return false
				}
			}
			return true
		}
		for {
			var c *commitInfo
			var ok bool
			select {
			case c, ok = <-found:
			case <-pf.stop:
				return
			}
			if !ok {
				return
			}
			pf.recv = append(pf.recv, c)
			if !send(fetched{c: c}) || !walk(c.tree) {
				return
			}
		}
	}()
	return pf
}

// next is the next commit to walk; false when there are no more or the
// prefetcher was stopped (the rest are then in taken, after halt).
func (pf *prefetch) next() (*commitInfo, bool) {
	if pf.off {
		return nil, false
	}
	f, ok := <-pf.ch
	if ok && f.c != nil {
		pf.walked++
		return f.c, true
	}
	pf.halt()
	return nil, false
}

// readTree is tree h's raw content: the prefetcher's next tree when it is h
// (it always is while the walk follows the commits in order), else read now.
func (s *session) readTree(pf *prefetch, h plumbing.Hash) ([]byte, error) {
	if pf != nil && !pf.off {
		if f, ok := <-pf.ch; ok && f.c == nil && f.h == h {
			return f.data, f.err
		}
		pf.halt()
	}
	return s.rp.readTreeRaw(h)
}

// halt stops the prefetcher, waits for it to exit and sets taken.
func (pf *prefetch) halt() {
	if pf == nil || pf.off {
		return
	}
	pf.off = true
	close(pf.stop)
	for range pf.ch {
	}
	<-pf.done
	pf.taken = pf.recv[pf.walked:]
}
