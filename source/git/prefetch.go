package git

import "github.com/go-git/go-git/v5/plumbing"

// prefetch reads trees ahead of the walk, on a goroutine of its own: the trees
// that walking the given roots in order reads first, in that order (each tree
// once, depth first, entries in tree order, as walkTree meets them). The walk
// takes each from the channel instead of reading it; while the prefetcher runs
// it alone uses the session's object store.
type prefetch struct {
	ch   chan fetched
	stop chan struct{}
	done chan struct{}
	off  bool // stopped: the walk reads for itself
}

type fetched struct {
	h    plumbing.Hash
	data []byte
	err  error
}

func (s *session) startPrefetch(roots []plumbing.Hash) *prefetch {
	pf := &prefetch{ch: make(chan fetched, 256), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pf.done)
		defer close(pf.ch)
		seen := map[plumbing.Hash]bool{}
		var walk func(h plumbing.Hash) bool
		walk = func(h plumbing.Hash) bool {
			if seen[h] {
				return true
			}
			seen[h] = true
			data, err := s.rp.readTreeRaw(h)
			select {
			case pf.ch <- fetched{h, data, err}:
			case <-pf.stop:
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
		for _, h := range roots {
			if s.ctx.Err() != nil || !walk(h) {
				return
			}
		}
	}()
	return pf
}

// readTree is tree h's raw content: the prefetcher's next tree when it is h
// (it always is when the walk follows the roots given), else read now.
func (s *session) readTree(pf *prefetch, h plumbing.Hash) ([]byte, error) {
	if pf != nil && !pf.off {
		if f, ok := <-pf.ch; ok && f.h == h {
			return f.data, f.err
		}
		pf.halt()
	}
	return s.rp.readTreeRaw(h)
}

// halt stops the prefetcher and waits for it to exit.
func (pf *prefetch) halt() {
	if pf == nil || pf.off {
		return
	}
	pf.off = true
	close(pf.stop)
	for range pf.ch {
	}
	<-pf.done
}
