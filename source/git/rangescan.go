package git

import (
	"container/heap"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
)

// change is one file-level difference between two trees.
type change struct {
	path     string
	from, to plumbing.Hash // zero from: added; zero to: deleted
}

// diffTrees appends the blob changes from tree a to tree b (either may be zero),
// skipping identical subtrees.
func (s *session) diffTrees(a, b plumbing.Hash, prefix string, out []change) []change {
	if a == b {
		return out
	}
	read := func(h plumbing.Hash) []treeEntry {
		if h.IsZero() {
			return nil
		}
		es, err := s.rp.readTree(h)
		if err != nil {
			s.problem(objectProblem("tree "+strings.TrimSuffix(prefix, "/"), h, err))
		}
		return es
	}
	ae, be := read(a), read(b)
	old := make(map[string]treeEntry, len(ae))
	for _, e := range ae {
		old[e.name] = e
	}
	for _, e := range be {
		p := prefix + e.name
		o, had := old[e.name]
		delete(old, e.name)
		switch {
		case e.mode == modeGitlink:
			if !had || o.hash != e.hash {
				s.gitlink(p)
			}
			if had && o.isBlob() {
				out = append(out, change{path: p, from: o.hash})
			} else if had && o.isDir() {
				out = s.diffTrees(o.hash, plumbing.ZeroHash, p+"/", out)
			}
		case e.isDir():
			var from plumbing.Hash
			if had && o.isDir() {
				from = o.hash
			} else if had && o.isBlob() {
				out = append(out, change{path: p, from: o.hash})
			}
			out = s.diffTrees(from, e.hash, p+"/", out)
		case e.isBlob():
			var from plumbing.Hash
			if had && o.isBlob() {
				if o.hash == e.hash {
					continue
				}
				from = o.hash
			} else if had && o.isDir() {
				out = s.diffTrees(o.hash, plumbing.ZeroHash, p+"/", out)
			}
			out = append(out, change{path: p, from: from, to: e.hash})
		}
	}
	for _, o := range ae {
		if _, gone := old[o.name]; !gone {
			continue
		}
		p := prefix + o.name
		if o.isDir() {
			out = s.diffTrees(o.hash, plumbing.ZeroHash, p+"/", out)
		} else if o.isBlob() {
			out = append(out, change{path: p, from: o.hash})
		}
	}
	return out
}

// parseRange resolves "BASE..HEAD" or "BASE...HEAD" (the latter: from their merge base).
func (s *session) parseRange(spec string) (base, head plumbing.Hash, err error) {
	return s.rp.parseRange(spec)
}

func (rp *repo) parseRange(spec string) (base, head plumbing.Hash, err error) {
	b, h, sym, err := SplitRange(spec)
	if err != nil {
		return base, head, err
	}
	resolve := func(rev string) (plumbing.Hash, error) {
		hp, err := rp.r.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			hint := fmt.Sprintf("fetch it first, e.g. `git fetch origin %s`", rev)
			if strings.ContainsAny(rev, "~^@") {
				hint = "the history may not reach that far: fetch more (`git fetch --deepen=N`) or name a commit"
			}
			return plumbing.ZeroHash, fmt.Errorf("--range %q: cannot resolve %q: %v (%s)", spec, rev, err, hint)
		}
		return *hp, nil
	}
	if base, err = resolve(b); err != nil {
		return
	}
	if head, err = resolve(h); err != nil {
		return
	}
	if sym {
		c1, err1 := rp.r.CommitObject(base)
		c2, err2 := rp.r.CommitObject(head)
		if err1 != nil || err2 != nil {
			return base, head, fmt.Errorf("--range %q: reading commits for the merge base: %v %v", spec, err1, err2)
		}
		mb, err := c1.MergeBase(c2)
		if err != nil || len(mb) == 0 {
			return base, head, fmt.Errorf("--range %q: no merge base", spec)
		}
		base = mb[0].Hash
	}
	return base, head, nil
}

// rangeCommits returns the commits reachable from head but not from base, in
// the order found (newest first by date), walking history only as far back as the
// two sides need, like `git rev-list base..head`. boundary lists base-side commits
// that are parents of range commits.
func (s *session) rangeCommits(base, head plumbing.Hash) (in []*commitInfo, boundary []*commitInfo) {
	type node struct {
		c            *commitInfo
		uninterested bool
		queued       bool
	}
	nodes := map[plumbing.Hash]*node{}
	q := &commitQueue{}
	shallow := s.rp.shallow()
	get := func(h plumbing.Hash) *node {
		if n, ok := nodes[h]; ok {
			return n
		}
		c, err := s.rp.readCommit(h)
		if err != nil {
			s.problem(objectProblem("commit", h, err))
			nodes[h] = nil
			return nil
		}
		n := &node{c: c}
		nodes[h] = n
		return n
	}
	markDown := func(n *node) { // propagate "reachable from base" through already-read commits
		stack := []*node{n}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range x.c.parents {
				if pn := nodes[p]; pn != nil && !pn.uninterested {
					pn.uninterested = true
					stack = append(stack, pn)
				}
			}
		}
	}
	push := func(n *node) {
		if n != nil && !n.queued {
			n.queued = true
			heap.Push(q, queued{n.c.when.Unix(), n})
		}
	}
	if bn := get(base); bn != nil {
		bn.uninterested = true
		push(bn)
	}
	hn := get(head)
	if hn == nil {
		return nil, nil
	}
	if hn.uninterested {
		return nil, nil
	}
	push(hn)
	var order []*node
	interesting := func() bool {
		for _, x := range *q {
			if !x.n.(*node).uninterested {
				return true
			}
		}
		return false
	}
	slop := 5
	for q.Len() > 0 {
		if !interesting() {
			if slop == 0 {
				break
			}
			slop--
		}
		n := heap.Pop(q).(queued).n.(*node)
		if !n.uninterested {
			order = append(order, n)
		}
		if shallow[n.c.hash] {
			if !n.uninterested {
				s.problem(fmt.Errorf("shallow clone: the range reaches commit %s, whose parents are not in the repository, so the base could not be separated from the range (fetch more history, e.g. `git fetch --deepen=100` or checkout with fetch-depth: 0)", n.c.hash))
			}
			continue
		}
		for _, p := range n.c.parents {
			pn := get(p)
			if pn == nil {
				continue
			}
			if n.uninterested && !pn.uninterested {
				pn.uninterested = true
				markDown(pn)
			}
			push(pn)
		}
	}
	seenB := map[plumbing.Hash]bool{}
	for _, n := range order {
		if n.uninterested {
			continue
		}
		in = append(in, n.c)
		for _, p := range n.c.parents {
			if pn := nodes[p]; pn != nil && pn.uninterested && !seenB[p] {
				seenB[p] = true
				boundary = append(boundary, pn.c)
			}
		}
	}
	return in, boundary
}

type queued struct {
	when int64
	n    any
}

type commitQueue []queued

func (q commitQueue) Len() int           { return len(q) }
func (q commitQueue) Less(i, j int) bool { return q[i].when > q[j].when }
func (q commitQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *commitQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// rangeScan reports the secrets that the commits in BASE..HEAD add: for each
// commit, the blobs it changes relative to every parent; a secret counts when no
// parent holds it at that path, it was not moved there from a path the commit
// changed, and no base-side commit holds it at that path.
func (s *session) rangeScan() {
	base, head, err := s.parseRange(s.opts.Range)
	if err != nil {
		s.problem(err)
		return
	}
	commits, boundary := s.rangeCommits(base, head)
	s.stats.Commits = len(commits)
	type perParent struct {
		changes []change
		byPath  map[string]change
	}
	type work struct {
		c       *commitInfo
		parents []perParent
		added   []change // paths whose blob differs from every parent's
	}
	treeOf := map[plumbing.Hash]plumbing.Hash{}
	for _, c := range commits {
		treeOf[c.hash] = c.tree
	}
	for _, c := range boundary {
		treeOf[c.hash] = c.tree
	}
	var works []work
	blobs := map[plumbing.Hash]bool{}
	for _, c := range commits {
		if s.ctx.Err() != nil {
			return
		}
		s.scanMessage(c.hash, CommitMessagePath, c.message)
		w := work{c: c}
		if len(c.parents) == 0 {
			pp := perParent{changes: s.diffTrees(plumbing.ZeroHash, c.tree, "", nil)}
			w.parents = append(w.parents, pp)
			for _, ch := range pp.changes {
				if !ch.to.IsZero() {
					w.added = append(w.added, ch)
				}
			}
		} else {
			for _, p := range c.parents {
				pt, ok := treeOf[p]
				if !ok {
					pc, err := s.rp.readCommit(p)
					if err != nil {
						s.problem(objectProblem("commit", p, err))
						continue
					}
					pt = pc.tree
					treeOf[p] = pt
				}
				pp := perParent{changes: s.diffTrees(pt, c.tree, "", nil), byPath: map[string]change{}}
				for _, ch := range pp.changes {
					pp.byPath[ch.path] = ch
				}
				w.parents = append(w.parents, pp)
			}
			if len(w.parents) > 0 {
				for _, ch := range w.parents[0].changes {
					if ch.to.IsZero() {
						continue
					}
					changedVsAll := true
					for _, pp := range w.parents[1:] {
						if _, ok := pp.byPath[ch.path]; !ok {
							changedVsAll = false
							break
						}
					}
					if changedVsAll {
						w.added = append(w.added, ch)
					}
				}
			}
		}
		for _, ch := range w.added {
			if !blobs[ch.to] {
				blobs[ch.to] = true
				s.stats.Blobs++
			}
			if _, ok := s.changeScan(ch.from, ch.to, ch.path); !ok {
				s.queue(ch.to, ch.path)
			}
		}
		works = append(works, w)
	}
	s.scanAll()
	s.drain()
	bt := make([]*headTrees, len(boundary))
	for i, b := range boundary {
		bt[i] = &headTrees{rp: s.rp, s: s, root: b.tree, dirs: map[string]map[string]treeEntry{}}
	}
	for _, w := range works {
		if fs, ok := s.pool.get(resultKey{hash: w.c.hash, msg: true}); ok {
			for _, f := range fs {
				s.emit(f, CommitMessagePath, w.c)
			}
		}
		for _, ch := range w.added {
			var fs []finding.Finding
			if key, ok := s.changeScan(ch.from, ch.to, ch.path); ok { // recorded in the first pass
				fs, _ = s.pool.get(key)
				if s.composite(fs) {
					// A composite's parts may lie outside the changed lines:
					// take the blob's complete findings, as a full scan would.
					fs = s.findingsAt(ch.to, ch.path)
				} else {
					fs = s.composeAt(key, fs)
				}
			} else {
				fs = s.findingsAt(ch.to, ch.path)
			}
		next:
			for _, f := range fs {
				for _, pp := range w.parents {
					if from := pp.byPath[ch.path].from; !from.IsZero() && s.parentHas(from, ch.path, f) {
						continue next // re-touched: the parent had it here
					}
				}
				for _, pp := range w.parents { // moved from a path this commit changed
					for _, o := range pp.changes {
						if o.path == ch.path || o.from.IsZero() || !s.parentHas(o.from, o.path, f) {
							continue
						}
						if o.to.IsZero() || !s.parentHas(o.to, o.path, f) {
							continue next
						}
					}
				}
				for _, b := range bt { // already on the base side
					if e, ok := b.lookup(ch.path); ok && e.isBlob() && s.parentHas(e.hash, ch.path, f) {
						continue next
					}
				}
				s.emit(f, ch.path, w.c)
			}
		}
	}
}
