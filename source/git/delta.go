package git

import (
	"bytes"
	"io"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// Delta-aware scanning. A packed blob stored as a delta against a base blob that
// was itself scanned (fully, or this way) under the same path class is scanned only
// in windows around what the delta changed: inserted data and every instruction
// boundary, widened by Options.DeltaContext bytes (default deltaWindowDefault) and
// to whole lines. Findings of the base whose lines, widened by inheritMargin bytes,
// lie inside one copy instruction are carried over with their positions translated.
// So every blob's content is covered and a blob's findings are complete, while the
// cost follows the changed bytes. The limit: a match longer than the context that
// straddles a change is found only if the window holds it (git diff based scanners
// see only the added lines themselves).
const (
	deltaWindowDefault = 512
	inheritMargin      = 256
	// A delta whose windows cover more than this share of the blob is scanned whole.
	windowShare = 0.8
)

// span is a window of a blob: bytes [start, end), starting at line `line`.
type span struct{ start, end, line int }

// pending is a blob to scan, found by a walk and processed in pack order.
type pending struct {
	key  resultKey
	path string
	loc  packLoc
	in   bool // in a pack
}

// deltaRec records that blob x was scanned in windows against base y.
type deltaRec struct {
	x, y       resultKey
	xloc, yloc packLoc
}

// coverKey marks a packed object whose findings under a path class are complete.
type coverKey struct {
	loc   packLoc
	class string
}

// queue adds a blob to the bulk scan (history, range), processed in scanAll.
func (s *session) queue(h plumbing.Hash, path string) {
	key := resultKey{hash: h, class: s.class(path)}
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
}

func (s *session) newProducer(store *objStore, st *Stats) *producer {
	return &producer{s: s, store: store, covered: map[coverKey]plumbing.Hash{}, st: st}
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
		pr := s.newProducer(s.rp.store.withCache(objCacheSize), st)
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
		pr.markCovered(l, key.class, h)
		return j, true
	}
	typ, data, ops, err := st.resolveOps(l)
	if err == nil && typ != objBlob {
		err = errNotBlob
	}
	if err != nil {
		s.problem(objectProblem("blob "+path, h, err))
		return job{}, false
	}
	if s.opts.MaxBlobSize > 0 && int64(len(data)) > s.opts.MaxBlobSize {
		pr.tooLarge(path, int64(len(data)))
		return job{}, false
	}
	j.blob.Data = data
	pr.st.BlobsScanned++
	if pr.bulk && !s.opts.FullBlobs && (hd.typ == objOfsDelta || hd.typ == objRefDelta) && !isBinary(data) {
		if bl, ok := st.baseLoc(l, hd); ok {
			if yh, ok := pr.covered[coverKey{bl, key.class}]; ok {
				if wins := s.windows(p, hd, data, ops); wins != nil {
					j.windows = wins
					for _, w := range wins {
						pr.st.Bytes += int64(w.end - w.start)
					}
					pr.st.DeltaScanned++
					pr.deltas = append(pr.deltas, deltaRec{x: key, y: resultKey{hash: yh, class: key.class}, xloc: l, yloc: bl})
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

// windows returns the parts of target (the delta at hd reconstructed) to scan, or
// nil when the whole blob should be scanned.
func (s *session) windows(p *pack, hd objHeader, target []byte, ops []deltaOp) []span {
	if ops == nil { // the blob was cached: decode its delta again
		delta, err := p.inflate(hd)
		if err != nil {
			return nil
		}
		if _, ops, err = parseDelta(delta, -1); err != nil {
			return nil
		}
	}
	w := s.win()
	var raw [][2]int
	for i, op := range ops {
		// The boundary before op, unless op continues the previous copy.
		if i > 0 && op.src >= 0 && ops[i-1].src >= 0 && ops[i-1].src+ops[i-1].n == op.src {
			continue
		}
		lo, hi := op.dst-w, op.dst+w
		if op.src < 0 {
			hi = op.dst + op.n + w
		}
		raw = append(raw, [2]int{lo, hi})
	}
	// The last line: a copy may end inside a line of the base.
	raw = append(raw, [2]int{len(target) - 1, len(target)})
	var out []span
	total := 0
	line, lineAt := 1, 0
	for _, r := range raw {
		lo, hi := max(r[0], 0), min(r[1], len(target))
		if lo >= hi {
			continue
		}
		// Whole lines.
		lo = bytes.LastIndexByte(target[:lo], '\n') + 1
		if i := bytes.IndexByte(target[hi:], '\n'); i >= 0 {
			hi += i + 1
		} else {
			hi = len(target)
		}
		if n := len(out); n > 0 && lo <= out[n-1].end {
			if hi > out[n-1].end {
				total += hi - out[n-1].end
				out[n-1].end = hi
			}
			continue
		}
		line += bytes.Count(target[lineAt:lo], []byte{'\n'})
		lineAt = lo
		out = append(out, span{start: lo, end: hi, line: line})
		total += hi - lo
	}
	if float64(total) > windowShare*float64(len(target)) {
		return nil
	}
	return out
}

// propagate adds to each window-scanned blob the findings of its base that lie
// inside copied data, in pack order so that bases are complete first.
func (s *session) propagate() {
	for _, d := range s.deltas {
		if !s.pool.isDone(d.y) {
			s.pool.undone(d.x) // x's findings in copied data are missing: never cache them
		}
		yf, _ := s.pool.get(d.y)
		if len(yf) == 0 {
			continue
		}
		st := s.rp.store
		_, base, err1 := st.resolve(d.yloc)
		_, target, err2 := st.resolve(d.xloc)
		p := st.packs[d.xloc.pack]
		hd, err3 := p.header(d.xloc.off)
		var delta []byte
		if err3 == nil {
			delta, err3 = p.inflate(hd)
		}
		var ops []deltaOp
		if err3 == nil {
			_, ops, err3 = parseDelta(delta, len(base))
		}
		if err1 != nil || err2 != nil || err3 != nil {
			s.problem(objectProblem("blob", d.x.hash, firstErr(err1, err2, err3)))
			s.pool.undone(d.x)
			continue
		}
		own, _ := s.pool.get(d.x)
		seen := map[string]bool{}
		for _, f := range own {
			seen[posKey(f)] = true
		}
		added := false
		for _, f := range yf {
			g, ok := translate(f, base, target, ops)
			if ok && !seen[posKey(g)] {
				seen[posKey(g)] = true
				own = append(own, g)
				added = true
			}
		}
		if added {
			sort.SliceStable(own, func(i, j int) bool {
				if own[i].Line != own[j].Line {
					return own[i].Line < own[j].Line
				}
				return own[i].Column < own[j].Column
			})
			s.pool.set(d.x, own)
		}
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func posKey(f finding.Finding) string {
	return f.RuleID + "\x00" + f.Fingerprint + "\x00" + itoa(f.Line) + ":" + itoa(f.Column)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// offsetOf converts a 1-based line and rune column to a byte offset in data.
func offsetOf(data []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(data); c++ {
		_, n := utf8.DecodeRune(data[off:])
		off += n
	}
	return off
}

// position converts a byte offset to a 1-based line and rune column.
func position(data []byte, off int) (line, col int) {
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[ls:off])
}

// translate maps a base finding into the target when its lines, widened by
// inheritMargin, were copied by a single instruction.
func translate(f finding.Finding, base, target []byte, ops []deltaOp) (finding.Finding, bool) {
	s := offsetOf(base, f.Line, f.Column)
	e := offsetOf(base, f.EndLine, f.EndColumn)
	if s < 0 || e < s {
		return f, false
	}
	lo := bytes.LastIndexByte(base[:max(s-inheritMargin, 0)], '\n') + 1
	hi := len(base)
	if end := min(e+inheritMargin, len(base)); end < len(base) {
		if i := bytes.IndexByte(base[end:], '\n'); i >= 0 {
			hi = end + i + 1
		}
	}
	for _, op := range ops {
		if op.src < 0 || lo < op.src || hi > op.src+op.n {
			continue
		}
		ts := op.dst + (s - op.src)
		te := op.dst + (e - op.src)
		g := f
		g.Line, g.Column = position(target, ts)
		g.EndLine, g.EndColumn = position(target, te)
		return g, true
	}
	return f, false
}

func (s *session) win() int {
	if s.opts.DeltaContext > 0 {
		return s.opts.DeltaContext
	}
	return deltaWindowDefault
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
	wins := s.windows(nil, objHeader{}, target, prefixSuffixOps(base, target))
	if wins == nil {
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
