package git

import (
	"bytes"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Delta-aware scanning, exact. A packed blob stored as a delta against a base blob
// that this scan ran the engine on (whole, or this way) under the same path class is
// cut, where the engine allows it, into parts: a part copied unchanged from the
// base whose both ends are quiet line starts (see engine.Engine.Reach: a full
// scan's findings factor there) in the blob and in the base has exactly the base's
// findings of that part, lines shifted; the rest (what the delta inserted, and the
// lines around it up to the next quiet line start) is scanned in windows. So a
// blob's findings equal a full scan's (TestDeltaScanProperty holds this against
// FullBlobs), while the cost follows the changed bytes. Engines that do not say
// where their findings factor (Local) get every blob scanned whole.
const (
	// minClean is the shortest copied part worth taking from the base.
	minClean = 256
	// A delta whose windows cover more than this share of the blob is scanned whole.
	windowShare = 0.8
)

// Local is implemented by a scanner whose secret findings factor at quiet line
// starts: a line start p (p = 0 or data[p-1] == '\n') such that SpanningHits(data,
// p-Reach(), p+Reach()) finds nothing. There, the findings that start before p are
// those of scanning data[:p] alone and those after p those of scanning data[p:]
// alone (lines renumbered). Given source.Blob.Windows, such a scanner must return
// the findings of kind secret of scanning each window alone (lines offset by the
// window's line), and any other finding (per-file checks) as for the whole blob
// unless source.Blob.WindowChecks is set (see localChecks).
// *engine.Engine has the methods; the pipeline's content scanner implements it
// with them.
type Local interface {
	Reach() int
	// SpanningHits appends the [start, end) offsets of the occurrences in data of
	// the anchors that make a point not quiet, that overlap data[lo:hi].
	SpanningHits(dst [][2]int, data []byte, lo, hi int) [][2]int
}

// localChecks is implemented by a scanner whose per-file checks say where their
// findings are line-local (pipeline.ContentScanner): when they are for both a
// delta and its base, the checks too read only the windows
// (source.Blob.WindowChecks) and the base's check findings on the lines taken
// from it are carried over as its secret findings are. A line start is always
// where line-local findings factor, and the windows and parts are whole lines.
type localChecks interface {
	LocalChecks(path string, data []byte) bool
}

// windowable is implemented by a scanner that honours windows only for some
// content and reads other content whole, its findings then positioned in what it
// decoded (UTF-16, printable runs of binary data, archive members): a delta is
// scanned around its changes only when it and its base are both windowable.
type windowable interface {
	Windowable(data []byte) bool
}

// span is a window of a blob: bytes [start, end), starting at line `line`.
type span struct{ start, end, line int }

// pending is a blob to scan, found by a walk and processed in pack order.
type pending struct {
	key  resultKey
	path string
	loc  packLoc
	in   bool // in a pack
}

// deltaRec records that blob x was scanned in windows, the rest of it holding
// base y's findings on the lines that maps names.
type deltaRec struct {
	x, y   resultKey
	maps   []lineMap
	xloc   packLoc
	path   string
	checks bool // the checks read only the windows: carry the base's check findings too
}

// lineMap says that lines [t, t+n) of a blob are lines [b, b+n) of its base, cut
// at quiet line starts in both: findings there are the base's, lines shifted.
type lineMap struct{ t, b, n int }

// coverKey marks a packed object whose findings under a path class are complete.
type coverKey struct {
	loc   packLoc
	class string
}

// queue adds a blob to the bulk scan (history, range), processed in scanAll.
func (s *session) queue(h plumbing.Hash, path string) {
	path, class := s.interned(path)
	key := resultKey{hash: h, class: class}
	if s.scanned[key] {
		return
	}
	s.scanned[key] = true
	if s.fromCache(key) {
		return
	}
	p := pending{key: key, path: path}
	p.loc, p.in = s.rp.store.locate(h)
	s.pendingBlobs = append(s.pendingBlobs, p)
}

// producer reads blobs and prepares engine jobs. Parallel producers each own a
// delta-base cache and take whole delta families (objects sharing a chain root),
// so a delta's base is always read, and covered, by the same producer.
type producer struct {
	s       *session
	store   *objStore
	bulk    bool // delta-aware scanning on
	covered map[coverKey]plumbing.Hash
	deltas  []deltaRec
	st      *Stats
	hits    hitCache
}

func (s *session) newProducer(store *objStore, st *Stats) *producer {
	return &producer{s: s, store: store, covered: map[coverKey]plumbing.Hash{}, st: st, hits: hitCache{m: map[packLoc]*hitList{}}}
}

// producers is how many goroutines read and delta-resolve blobs in bulk scans.
const producers = 2

// scanAll scans the queued blobs: unpacked ones first, then packed ones grouped by
// delta family, each family in pack order so bases come before their deltas.
func (s *session) scanAll() {
	ps := s.pendingBlobs
	s.pendingBlobs = nil
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.in != b.in {
			return !a.in
		}
		if a.loc.pack != b.loc.pack {
			return a.loc.pack < b.loc.pack
		}
		return a.loc.off < b.loc.off
	})
	var packed []pending
	for i, p := range ps {
		if p.in {
			packed = ps[i:]
			break
		}
		if s.ctx.Err() != nil {
			return
		}
		if j, ok := s.main.blobJob(p.key, p.key.hash, p.path); ok {
			s.pool.submit(j)
		}
	}
	if len(packed) == 0 {
		return
	}
	families := s.families(packed)
	work := make(chan []pending)
	var wg sync.WaitGroup
	n := producers
	if s.opts.Workers == 1 {
		n = 1
	}
	prods := make([]*producer, n)
	for i := range prods {
		st := &Stats{}
		store := s.rp.store.withCache(producerCacheSize)
		store.pooled = true // this producer is its only user
		store.cache.keep, store.cache.hardMax = producerCacheKeep, producerCacheHard
		pr := s.newProducer(store, st)
		pr.bulk = true
		prods[i] = pr
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fam := range work {
				for _, p := range fam {
					if s.ctx.Err() != nil {
						break
					}
					if j, ok := pr.blobJob(p.key, p.key.hash, p.path); ok {
						s.pool.submit(j)
					}
				}
			}
		}()
	}
	for _, f := range families {
		work <- f
	}
	close(work)
	wg.Wait()
	for _, pr := range prods {
		s.deltas = append(s.deltas, pr.deltas...)
		s.stats.BlobsScanned += pr.st.BlobsScanned
		s.stats.Binary += pr.st.Binary
		s.stats.TooLarge += pr.st.TooLarge
		s.stats.Streamed += pr.st.Streamed
		s.stats.DeltaScanned += pr.st.DeltaScanned
		s.stats.Bytes += pr.st.Bytes
	}
}

// families groups packed blobs (in pack order) by the root of their delta chain,
// largest families first so that parallel producers finish together.
func (s *session) families(ps []pending) [][]pending {
	st := s.rp.store
	roots := map[packLoc]packLoc{}
	var root func(l packLoc, depth int) packLoc
	root = func(l packLoc, depth int) packLoc {
		if r, ok := roots[l]; ok {
			return r
		}
		r := l
		if hd, err := st.packs[l.pack].header(l.off); err == nil && depth < 10000 {
			if hd.typ == objOfsDelta || hd.typ == objRefDelta {
				if bl, ok := st.baseLoc(l, hd); ok {
					r = root(bl, depth+1)
				}
			}
		}
		roots[l] = r
		return r
	}
	index := map[packLoc]int{}
	var out [][]pending
	for _, p := range ps {
		r := root(p.loc, 0)
		i, ok := index[r]
		if !ok {
			i = len(out)
			index[r] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], p)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// drain waits for the engine and completes the findings of window-scanned blobs.
func (s *session) drain() {
	s.pool.close()
	s.propagate()
	s.offerResults()
}

// packedBlobJob prepares the job for a packed blob, delta-aware during bulk scans.
func (pr *producer) packedBlobJob(key resultKey, h plumbing.Hash, path string, l packLoc) (job, bool) {
	s := pr.s
	name := "blob " + h.String() + " (" + path + ")"
	st := pr.store
	p := st.packs[l.pack]
	hd, err := p.header(l.off)
	if err != nil {
		s.problem(objectProblem("blob "+path, h, err))
		return job{}, false
	}
	j := job{key: key, name: name, blob: source.Blob{ID: h.String(), Path: path}}
	if hd.typ == objBlob && hd.size > streamAbove {
		if s.opts.MaxBlobSize > 0 && hd.size > s.opts.MaxBlobSize {
			pr.tooLarge(path, hd.size)
			return job{}, false
		}
		r, err := p.zreader(hd)
		if err != nil {
			s.problem(objectProblem("blob "+path, h, err))
			return job{}, false
		}
		r.Close()
		size := hd.size
		j.blob.Open = func() (io.ReadCloser, error) {
			r, err := p.zreader(hd)
			if err != nil {
				return nil, err
			}
			return struct {
				io.Reader
				io.Closer
			}{io.LimitReader(r, size), r}, nil
		}
		pr.st.Streamed++
		pr.st.BlobsScanned++
		pr.st.Bytes += size
		return j, true // streamed: not a base for deltas (its content is not held)
	}
	typ, data, ops, held, err := st.resolveHeld(l)
	if err == nil && typ != objBlob {
		err = errNotBlob
	}
	if err != nil {
		held.release()
		s.problem(objectProblem("blob "+path, h, err))
		return job{}, false
	}
	if s.opts.MaxBlobSize > 0 && int64(len(data)) > s.opts.MaxBlobSize {
		held.release()
		pr.tooLarge(path, int64(len(data)))
		return job{}, false
	}
	j.blob.Data, j.held = data, held // the job releases it once scanned
	pr.st.BlobsScanned++
	if pr.bulk && s.local != nil && !s.opts.FullBlobs && (hd.typ == objOfsDelta || hd.typ == objRefDelta) && !isBinary(data) {
		if bl, ok := st.baseLoc(l, hd); ok {
			if yh, ok := pr.covered[coverKey{bl, key.class}]; ok {
				if wins, maps, checks, ok := pr.deltaPlan(p, hd, l, bl, data, ops, path); ok {
					j.windows = wins
					j.blob.WindowChecks = checks
					for _, w := range wins {
						pr.st.Bytes += int64(w.end - w.start)
					}
					pr.st.DeltaScanned++
					pr.deltas = append(pr.deltas, deltaRec{x: key, y: resultKey{hash: yh, class: key.class}, maps: maps, xloc: l, path: path, checks: checks})
					pr.markCovered(l, key.class, h)
					return j, true
				}
			}
		}
	}
	pr.st.Bytes += int64(len(data))
	pr.markCovered(l, key.class, h)
	return j, true
}

func (pr *producer) markCovered(l packLoc, class string, h plumbing.Hash) {
	if pr.bulk {
		pr.covered[coverKey{l, class}] = h
	}
}

// deltaPlan reads the base at bl of the delta at hd (target is its content, ops
// its instructions when they were just applied) and plans the delta's scan;
// checks reports whether the per-file checks too may read only the windows (see
// localChecks).
func (pr *producer) deltaPlan(p *pack, hd objHeader, l, bl packLoc, target []byte, ops []deltaOp, path string) (wins []span, maps []lineMap, checks, ok bool) {
	if ops == nil { // the blob came from the cache: decode its delta again
		delta, err := p.inflate(hd)
		if err != nil {
			return nil, nil, false, false
		}
		if _, ops, err = parseDelta(delta, -1); err != nil {
			return nil, nil, false, false
		}
	}
	bt, base, _, held, err := pr.store.resolveHeld(bl)
	defer held.release()
	if err != nil || bt != objBlob || isBinary(base) {
		return nil, nil, false, false
	}
	if w, ok := pr.s.local.(windowable); ok && (!w.Windowable(target) || !w.Windowable(base)) {
		return nil, nil, false, false
	}
	// The base was scanned under a path of the same class, which LocalChecks
	// judges alike (the class holds what the checks read of a path).
	if lc, ok := pr.s.local.(localChecks); ok {
		checks = lc.LocalChecks(path, target) && lc.LocalChecks(path, base)
	}
	bh := pr.hits.get(bl)
	if bh == nil {
		bh = pr.hits.full(pr.s.local, base)
		pr.hits.add(bl, bh)
	}
	th := bh.through(pr.s.local, target, ops)
	pr.hits.add(l, th)
	wins, maps, ok = pr.s.plan(base, target, ops, bh, th)
	return wins, maps, checks, ok
}

// hitList is where a blob's spanning anchors occur (Local.SpanningHits over all
// of it), sorted by end; long is the longest occurrence.
type hitList struct {
	h    [][2]int
	long int
}

func newHitList(h [][2]int) *hitList {
	sort.Slice(h, func(i, j int) bool { return h[i][1] < h[j][1] || h[i][1] == h[j][1] && h[i][0] < h[j][0] })
	h = slices.Compact(h)
	l := &hitList{h: h}
	for _, x := range h {
		l.long = max(l.long, x[1]-x[0])
	}
	return l
}

// overlapping appends the occurrences overlapping [lo, hi).
func (l *hitList) overlapping(dst [][2]int, lo, hi int) [][2]int {
	i := sort.Search(len(l.h), func(i int) bool { return l.h[i][1] > lo })
	for ; i < len(l.h) && l.h[i][1] < hi+l.long; i++ {
		if l.h[i][0] < hi {
			dst = append(dst, l.h[i])
		}
	}
	return dst
}

// through derives the hits of target, made from l's blob by ops: an occurrence
// within one copy is the base's, shifted; any other overlaps an insert or a
// boundary between instructions, where the target is searched.
func (l *hitList) through(loc Local, target []byte, ops []deltaOp) *hitList {
	var h [][2]int
	for i, op := range ops {
		if op.src < 0 {
			h = loc.SpanningHits(h, target, op.dst, op.dst+op.n)
			continue
		}
		if i > 0 && ops[i-1].src >= 0 {
			h = loc.SpanningHits(h, target, op.dst-1, op.dst+1)
		}
		j := sort.Search(len(l.h), func(j int) bool { return l.h[j][1] > op.src })
		for ; j < len(l.h) && l.h[j][1] <= op.src+op.n; j++ {
			if x := l.h[j]; x[0] >= op.src {
				h = append(h, [2]int{x[0] - op.src + op.dst, x[1] - op.src + op.dst})
			}
		}
	}
	return newHitList(h)
}

// hitCache keeps the hit lists of recently planned blobs (bases of later deltas),
// up to hitCacheHits occurrences in all (16 bytes each).
type hitCache struct {
	m     map[packLoc]*hitList
	order []packLoc
	n     int // occurrences held
}

const hitCacheHits = 1 << 20

func (c *hitCache) get(l packLoc) *hitList { return c.m[l] }

func (c *hitCache) add(l packLoc, h *hitList) {
	if _, ok := c.m[l]; ok || len(h.h) > hitCacheHits/4 {
		return
	}
	for len(c.order) > 0 && (c.n+len(h.h) > hitCacheHits || len(c.order) >= 1<<16) {
		c.n -= len(c.m[c.order[0]].h)
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[l] = h
	c.order = append(c.order, l)
	c.n += len(h.h)
}

func (c *hitCache) full(loc Local, data []byte) *hitList {
	return newHitList(loc.SpanningHits(nil, data, 0, len(data)))
}

// cut is a part of the target equal to a part of the base, both cut at quiet line
// starts: target bytes [t, e) are base bytes [b, b+e-t).
type cut struct{ t, e, b int }

// plan cuts target, made from base by ops, into parts equal to parts of base and
// windows to scan (see Local). It returns the windows with the line maps of the
// parts taken from base, or ok=false when the blob is to be scanned whole.
//
// bh and th, when set, are where the spanning anchors occur in base and target.
func (s *session) plan(base, target []byte, ops []deltaOp, bh, th *hitList) (wins []span, maps []lineMap, ok bool) {
	reach := s.local.Reach()
	c := &cutter{loc: s.local, reach: reach, bh: bh, th: th}
	var cuts []cut
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		if op.src < 0 {
			continue
		}
		n := op.n
		for i+1 < len(ops) && ops[i+1].src >= 0 && ops[i+1].src == op.src+n {
			i++
			n += ops[i].n
		}
		if n < minClean {
			continue
		}
		if k, ok := c.part(base, target, op.dst, op.src, n); ok {
			cuts = append(cuts, k)
		}
	}
	// Windows: what no part covers. Parts are in target order (ops are).
	at, covered := 0, 0
	for _, k := range cuts {
		if k.t > at {
			wins = append(wins, span{start: at, end: k.t})
		}
		covered += k.e - k.t
		at = k.e
	}
	if at < len(target) {
		wins = append(wins, span{start: at, end: len(target)})
	}
	if len(cuts) == 0 || float64(len(target)-covered) > windowShare*float64(len(target)) {
		return nil, nil, false
	}
	if len(wins) == 0 { // all of it is the base's: an empty window, as no windows means whole
		wins = []span{{start: 0, end: 0}}
	}
	// Line numbers: the target's in one pass, the base's in order of offset.
	line, lineAt := 1, 0
	lineOf := func(off int) int {
		line += bytes.Count(target[lineAt:off], nl)
		lineAt = off
		return line
	}
	maps = make([]lineMap, len(cuts))
	wi := 0
	for i, k := range cuts {
		for wi < len(wins) && wins[wi].start < k.t {
			wins[wi].line = lineOf(wins[wi].start)
			wi++
		}
		t := lineOf(k.t)
		n := bytes.Count(target[k.t:k.e], nl)
		if k.e == len(target) && k.e > k.t && target[k.e-1] != '\n' {
			n++ // the last line has no newline
		}
		maps[i] = lineMap{t: t, n: n}
	}
	for ; wi < len(wins); wi++ {
		wins[wi].line = lineOf(wins[wi].start)
	}
	order := make([]int, len(cuts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return cuts[order[a]].b < cuts[order[b]].b })
	bline, bat := 1, 0
	for _, i := range order {
		bline += bytes.Count(base[bat:cuts[i].b], nl)
		bat = cuts[i].b
		maps[i].b = bline
	}
	return wins, maps, true
}

var nl = []byte{'\n'}

// cutter finds quiet line starts.
type cutter struct {
	loc    Local
	reach  int
	hits   [][2]int
	bh, th *hitList // the base's and the target's hits, when known
}

// spanning appends the hits in data (the base or the target) overlapping [lo, hi).
func (c *cutter) spanning(dst [][2]int, data []byte, l *hitList, lo, hi int) [][2]int {
	if l != nil {
		return l.overlapping(dst, lo, hi)
	}
	return c.loc.SpanningHits(dst, data, lo, hi)
}

// part finds, in a copy of n bytes from base[src:] to target[dst:], the widest part
// [t, e) cut at line starts that are quiet in both the target and the base.
func (c *cutter) part(base, target []byte, dst, src, n int) (cut, bool) {
	// A line start t in [dst, dst+n) of the target is one in the base at b =
	// src+t-dst when t-1 is copied too, or base[b-1] is a newline as well.
	lineStart := func(t int) bool {
		b := src + t - dst
		return (t == 0 || target[t-1] == '\n') && (b == 0 || base[b-1] == '\n')
	}
	end := dst + n
	// The first cut, from the copy's start forwards.
	t := dst
	for {
		for t < end && !lineStart(t) {
			i := bytes.IndexByte(target[t:end], '\n')
			if i < 0 {
				return cut{}, false
			}
			t += i + 1
		}
		if t >= end-minClean {
			return cut{}, false
		}
		_, after, quiet := c.quiet(base, target, t, src+t-dst, dst, src, n)
		if quiet {
			break
		}
		t = after
	}
	// The last cut, from the copy's end backwards: the end of both blobs, or a line
	// start whose newline is copied.
	e := end
	if !(e == len(target) && src+n == len(base)) {
		e = bytes.LastIndexByte(target[t:end], '\n') + t + 1
	}
	for e-t >= minClean {
		if e == len(target) && src+e-dst == len(base) {
			break
		}
		before, _, quiet := c.quiet(base, target, e, src+e-dst, dst, src, n)
		if quiet {
			break
		}
		i := bytes.LastIndexByte(target[t:max(before, t)], '\n')
		if i < 0 {
			return cut{}, false
		}
		e = t + i + 1
	}
	if e-t < minClean {
		return cut{}, false
	}
	return cut{t: t, e: e, b: src + t - dst}, true
}

// quiet reports whether target offset t and base offset b, the same line start
// of a copy of n bytes from base[src:] to target[dst:], are quiet. When not, no cut
// is quiet in (before, after) (target offsets, reach from every hit found).
func (c *cutter) quiet(base, target []byte, t, b, dst, src, n int) (before, after int, ok bool) {
	if c.reach == 0 {
		return 0, 0, true
	}
	before, after = t, t
	note := func(hs [][2]int, shift int) {
		for _, h := range hs {
			ok = true
			after = max(after, h[1]+shift+c.reach)
			before = min(before, h[0]+shift-c.reach)
		}
	}
	c.hits = c.spanning(c.hits[:0], target, c.th, t-c.reach, t+c.reach)
	note(c.hits, 0)
	// The base's bytes within reach of b are the target's where copied: only those
	// outside the copy need a look of their own.
	if lo := b - c.reach; lo < src {
		c.hits = c.spanning(c.hits[:0], base, c.bh, lo, min(src, b+c.reach))
		note(c.hits, t-b)
	}
	if hi := b + c.reach; hi > src+n {
		c.hits = c.spanning(c.hits[:0], base, c.bh, max(src+n, b-c.reach), hi)
		note(c.hits, t-b)
	}
	return before, after, !ok
}

// propagate completes each window-scanned blob with the findings of its base on
// the lines taken from it, in pack order so that bases are complete first. A blob
// whose window scan failed, or whose base's result is not complete, is scanned
// whole instead.
func (s *session) propagate() {
	for _, d := range s.deltas {
		if s.ctx.Err() != nil {
			return
		}
		if !s.pool.windowed(d.x) || !s.pool.isWhole(d.y) {
			s.rescan(d)
			continue
		}
		yf, _ := s.pool.get(d.y)
		own, _ := s.pool.get(d.x)
		added := false
		for _, f := range yf {
			if f.Kind != finding.KindSecret && !d.checks {
				continue // a per-file check's, run on the whole blob (see Local)
			}
			for _, m := range d.maps { // a part of the base may be copied more than once
				if f.Line >= m.b && f.EndLine < m.b+m.n {
					g := f
					g.Line += m.t - m.b
					g.EndLine += m.t - m.b
					own = append(own, g)
					added = true
				}
			}
		}
		if added {
			sort.SliceStable(own, func(i, j int) bool {
				a, b := own[i], own[j]
				if a.Line != b.Line {
					return a.Line < b.Line
				}
				return a.Column < b.Column
			})
			s.pool.set(d.x, own)
		}
		s.pool.completed(d.x)
	}
}

// rescan scans a window-scanned blob whole, now (the pool is closed).
func (s *session) rescan(d deltaRec) {
	_, data, err := s.rp.store.resolve(d.xloc)
	if err != nil {
		s.problem(objectProblem("blob", d.x.hash, err))
		return
	}
	s.pool.clear(d.x)
	s.pool.scanNow(job{key: d.x, name: "blob " + d.x.hash.String() + " (" + d.path + ")", blob: source.Blob{ID: d.x.hash.String(), Path: d.path, Data: data}})
}

// minChangeScan: a changed blob smaller than this is scanned whole by changeScan's
// callers (as cheap as finding what changed).
const minChangeScan = 16 << 10

// changeScan scans blob to (at path) only around what changed from blob from, its
// version in a parent, for range and staged scans: a secret in data copied
// unchanged from the parent is the parent's too, so it cannot be new there. What
// changed is the span between the common prefix and the common suffix of the two
// versions (exact for one edited region, the usual commit; several far apart widen
// it, and a blob changed throughout is scanned whole). It returns the key of the
// partial result, or ok=false when to must be scanned whole (small, binary,
// unreadable, or changed throughout).
func (s *session) changeScan(from, to plumbing.Hash, path string) (resultKey, bool) {
	key := resultKey{hash: to, class: s.class(path), base: from}
	if ok, seen := s.partial[key]; seen {
		return key, ok
	}
	ok := s.submitChange(key, from, to, path)
	s.partial[key] = ok
	return key, ok
}

func (s *session) submitChange(key resultKey, from, to plumbing.Hash, path string) bool {
	if s.opts.FullBlobs || from.IsZero() {
		return false
	}
	tt, target, err := s.rp.readObject(to)
	if err != nil || tt != plumbing.BlobObject || len(target) < minChangeScan || isBinary(target) ||
		(s.opts.MaxBlobSize > 0 && int64(len(target)) > s.opts.MaxBlobSize) {
		return false
	}
	ft, base, err := s.rp.readObject(from)
	if err != nil || ft != plumbing.BlobObject || isBinary(base) {
		return false
	}
	if s.local == nil {
		return false
	}
	wins, _, ok := s.plan(base, target, prefixSuffixOps(base, target), nil, nil)
	if !ok {
		return false
	}
	s.stats.BlobsScanned++
	s.stats.DeltaScanned++
	for _, w := range wins {
		s.stats.Bytes += int64(w.end - w.start)
	}
	s.pool.submit(job{key: key, name: "blob " + to.String() + " (" + path + ")",
		blob: source.Blob{ID: to.String(), Path: path, Data: target}, windows: wins})
	return true
}

// parentHas reports whether blob from (a parent's, the base's, a move source's) at
// path holds finding f's secret: only when the secret occurs in it literally (or
// is encoded) is from scanned.
func (s *session) parentHas(from plumbing.Hash, path string, f finding.Finding) bool {
	if f.Encoding == "" && f.Secret != "" {
		if _, data, err := s.rp.readObject(from); err == nil && !bytes.Contains(data, []byte(f.Secret)) {
			return false
		}
	}
	return s.has(from, path, f.Fingerprint)
}

// prefixSuffixOps describes target as base's common prefix, the changed middle
// (inserted) and base's common suffix.
func prefixSuffixOps(base, target []byte) []deltaOp {
	n := min(len(base), len(target))
	pre := 0
	for pre < n {
		k := min(4096, n-pre)
		if bytes.Equal(base[pre:pre+k], target[pre:pre+k]) {
			pre += k
			continue
		}
		for base[pre] == target[pre] {
			pre++
		}
		break
	}
	suf := 0
	for suf < n-pre && base[len(base)-1-suf] == target[len(target)-1-suf] {
		suf++
	}
	var ops []deltaOp
	if pre > 0 {
		ops = append(ops, deltaOp{src: 0, dst: 0, n: pre})
	}
	if mid := len(target) - pre - suf; mid > 0 {
		ops = append(ops, deltaOp{src: -1, dst: pre, n: mid, lit: target[pre : pre+mid]})
	}
	if suf > 0 {
		ops = append(ops, deltaOp{src: len(base) - suf, dst: len(target) - suf, n: suf})
	}
	return ops
}
