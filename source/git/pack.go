package git

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/klauspost/compress/zlib"
)

// Pack object types.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objTag      = 4
	objOfsDelta = 6
	objRefDelta = 7
)

// pack is one mapped packfile with its version-2 index.
type pack struct {
	name    string
	data    []byte // the .pack file (mapped)
	idxData []byte // the .idx file (mapped)
	fanout  [256]uint32
	n       int
	hashes  []byte // n*20
	offs    []byte // n*4
	large   []byte // 8-byte offsets
	unmap   func()
	read    atomic.Int64 // bytes read from data since its pages were last released
}

// releaseEvery is how many bytes of a mapped pack are read between releases of its
// pages (release): a history scan reads every pack byte, and mapped pages read
// would otherwise stay in the resident set, however large the pack.
const releaseEvery = 32 << 20

// touched notes that n bytes of the mapping were read.
func (p *pack) touched(n int64) {
	if p.read.Add(n) > releaseEvery {
		p.read.Store(0)
		release(p.data)
	}
}

func openPack(idxPath string) (*pack, error) {
	packPath := strings.TrimSuffix(idxPath, ".idx") + ".pack"
	idx, unmapIdx, err := mapFile(idxPath)
	if err != nil {
		return nil, err
	}
	data, unmapPack, err := mapFile(packPath)
	if err != nil {
		unmapIdx()
		return nil, err
	}
	p := &pack{name: filepath.Base(packPath), data: data, idxData: idx, unmap: func() { unmapIdx(); unmapPack() }}
	if err := p.parseIndex(); err != nil {
		p.unmap()
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	if len(data) < 12 || string(data[:4]) != "PACK" {
		p.unmap()
		return nil, fmt.Errorf("%s: not a packfile", packPath)
	}
	return p, nil
}

func (p *pack) parseIndex() error {
	b := p.idxData
	if len(b) < 8+256*4 || !bytes.Equal(b[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(b[4:]) != 2 {
		return errors.New("not a version 2 pack index")
	}
	for i := range 256 {
		p.fanout[i] = binary.BigEndian.Uint32(b[8+4*i:])
	}
	p.n = int(p.fanout[255])
	base := 8 + 256*4
	need := base + p.n*(20+4+4)
	if len(b) < need {
		return errors.New("truncated pack index")
	}
	p.hashes = b[base : base+20*p.n]
	p.offs = b[base+24*p.n : base+28*p.n]
	p.large = b[base+28*p.n:]
	return nil
}

// find returns the offset of object h in the pack.
func (p *pack) find(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(p.fanout[h[0]-1])
	}
	hi := int(p.fanout[h[0]])
	for lo < hi {
		m := (lo + hi) / 2
		switch c := bytes.Compare(p.hashes[20*m:20*m+20], h[:]); {
		case c == 0:
			return p.offset(m), true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}

func (p *pack) offset(i int) int64 {
	o := binary.BigEndian.Uint32(p.offs[4*i:])
	if o&0x80000000 == 0 {
		return int64(o)
	}
	j := int(o & 0x7fffffff)
	if 8*j+8 > len(p.large) {
		return -1
	}
	return int64(binary.BigEndian.Uint64(p.large[8*j:]))
}

// objHeader is a packed object's entry header.
type objHeader struct {
	typ      byte
	size     int64 // inflated size of the entry (the delta's size for deltas)
	data     int64 // offset of the zlib stream
	baseOff  int64 // ofs-delta base
	baseHash plumbing.Hash
}

func (p *pack) header(off int64) (objHeader, error) {
	var h objHeader
	if off < 12 || off >= int64(len(p.data)) {
		return h, fmt.Errorf("offset %d outside pack %s", off, p.name)
	}
	b := p.data[off:]
	c := b[0]
	h.typ = (c >> 4) & 7
	h.size = int64(c & 15)
	shift := uint(4)
	i := 1
	for c&0x80 != 0 {
		if i >= len(b) || shift > 56 {
			return h, fmt.Errorf("corrupt object header at %d in %s", off, p.name)
		}
		c = b[i]
		i++
		h.size |= int64(c&0x7f) << shift
		shift += 7
	}
	switch h.typ {
	case objOfsDelta:
		if i >= len(b) {
			return h, fmt.Errorf("corrupt delta header at %d in %s", off, p.name)
		}
		c = b[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || rel > 1<<50 {
				return h, fmt.Errorf("corrupt delta header at %d in %s", off, p.name)
			}
			c = b[i]
			i++
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		h.baseOff = off - rel
		if h.baseOff < 12 || h.baseOff >= off {
			return h, fmt.Errorf("corrupt delta base offset at %d in %s", off, p.name)
		}
	case objRefDelta:
		if i+20 > len(b) {
			return h, fmt.Errorf("corrupt delta header at %d in %s", off, p.name)
		}
		copy(h.baseHash[:], b[i:i+20])
		i += 20
	case objCommit, objTree, objBlob, objTag:
	default:
		return h, fmt.Errorf("unknown object type %d at %d in %s", h.typ, off, p.name)
	}
	h.data = off + int64(i)
	return h, nil
}

var zlibPool sync.Pool

// inflate decompresses the entry at h into a buffer of exactly h.size bytes.
func (p *pack) inflate(h objHeader) ([]byte, error) {
	out := make([]byte, h.size)
	if err := p.inflateInto(h, out); err != nil {
		return nil, err
	}
	return out, nil
}

// inflateInto inflates the object h into out, h.size bytes long.
func (p *pack) inflateInto(h objHeader, out []byte) error {
	r, err := p.zreader(h)
	if err != nil {
		return err
	}
	defer zlibPool.Put(r)
	if _, err := io.ReadFull(r, out); err != nil {
		return fmt.Errorf("inflating object at %d in %s: %w", h.data, p.name, err)
	}
	p.touched(h.size/2 + 64) // compressed bytes read, roughly
	return nil
}

func (p *pack) zreader(h objHeader) (io.ReadCloser, error) {
	src := bytes.NewReader(p.data[h.data:])
	if z, ok := zlibPool.Get().(io.ReadCloser); ok {
		if err := z.(zlib.Resetter).Reset(src, nil); err != nil {
			return nil, fmt.Errorf("inflating object at %d in %s: %w", h.data, p.name, err)
		}
		return z, nil
	}
	z, err := zlib.NewReader(src)
	if err != nil {
		return nil, fmt.Errorf("inflating object at %d in %s: %w", h.data, p.name, err)
	}
	return z, nil
}

// deltaOp is one instruction of a delta: a copy from the base (src >= 0) or an
// insert of literal data (src < 0), producing target bytes [dst, dst+n).
type deltaOp struct {
	src, dst, n int
	lit         []byte
}

// parseDelta decodes a delta against a base of baseLen bytes.
func parseDelta(delta []byte, baseLen int) (targetLen int, ops []deltaOp, err error) {
	bad := errors.New("corrupt delta")
	varint := func() (int, bool) {
		v, shift := 0, 0
		for {
			if len(delta) == 0 || shift > 56 {
				return 0, false
			}
			c := delta[0]
			delta = delta[1:]
			v |= int(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				return v, true
			}
		}
	}
	src, ok1 := varint()
	tgt, ok2 := varint()
	if baseLen < 0 {
		baseLen = src
	}
	if !ok1 || !ok2 || src != baseLen {
		return 0, nil, fmt.Errorf("%w: base size %d, delta expects %d", bad, baseLen, src)
	}
	dst := 0
	ops = make([]deltaOp, 0, len(delta)/6+1)
	for len(delta) > 0 {
		c := delta[0]
		delta = delta[1:]
		if c&0x80 != 0 {
			var off, n int
			for i := range 4 {
				if c&(1<<i) != 0 {
					if len(delta) == 0 {
						return 0, nil, bad
					}
					off |= int(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			for i := range 3 {
				if c&(0x10<<i) != 0 {
					if len(delta) == 0 {
						return 0, nil, bad
					}
					n |= int(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > baseLen || dst+n > tgt {
				return 0, nil, bad
			}
			ops = append(ops, deltaOp{src: off, dst: dst, n: n})
			dst += n
		} else if c != 0 {
			n := int(c)
			if len(delta) < n || dst+n > tgt {
				return 0, nil, bad
			}
			ops = append(ops, deltaOp{src: -1, dst: dst, n: n, lit: delta[:n]})
			delta = delta[n:]
			dst += n
		} else {
			return 0, nil, bad
		}
	}
	if dst != tgt {
		return 0, nil, bad
	}
	return tgt, ops, nil
}

// applyDeltaInto builds the target of ops (covering it exactly, in any order) in
// out, as long as the target.
func applyDeltaInto(out, base []byte, ops []deltaOp) []byte {
	for _, op := range ops {
		if op.src >= 0 {
			copy(out[op.dst:op.dst+op.n], base[op.src:op.src+op.n])
		} else {
			copy(out[op.dst:op.dst+op.n], op.lit)
		}
	}
	return out
}

// applyDelta builds the target of ops (parseDelta's: in target order, covering
// it exactly) through bytes.Join, which does not zero its buffer first.
func applyDelta(base []byte, targetLen int, ops []deltaOp) []byte {
	pp := pieces.Get().(*[][]byte)
	ps := (*pp)[:0]
	for _, op := range ops {
		if op.src >= 0 {
			ps = append(ps, base[op.src:op.src+op.n])
		} else {
			ps = append(ps, op.lit)
		}
	}
	out := bytes.Join(ps, nil)
	clear(ps) // drop the references to base and the delta
	*pp = ps[:0]
	pieces.Put(pp)
	if len(out) == targetLen {
		return out
	}
	return applyDeltaInto(make([]byte, targetLen), base, ops) // ops out of order (parseDelta's never are)
}

var pieces = sync.Pool{New: func() any { return new([][]byte) }}

// objStore reads objects from mapped packs, resolving deltas with a cache of
// recent objects, and falls back to go-git for loose objects and alternates.
type objStore struct {
	rp    *repo
	packs []*pack
	cache *lru
	// pooled: blobs are resolved into pooled buffers (heldBuf), for a bulk
	// producer, the store's only user, which releases what resolveHeld holds.
	pooled bool
}

// packLoc is where an object lives: pack index and offset.
type packLoc struct {
	pack int32
	off  int64
}

func newObjStore(rp *repo, cacheBytes int) *objStore {
	s := &objStore{rp: rp, cache: newLRU(cacheBytes)}
	idxs, _ := filepath.Glob(filepath.Join(rp.commonDir, "objects", "pack", "*.idx"))
	sort.Strings(idxs)
	for _, ix := range idxs {
		if p, err := openPack(ix); err == nil {
			s.packs = append(s.packs, p)
		}
		// An unreadable pack is left to go-git, which reports its objects as missing.
	}
	return s
}

// withCache returns a view of the same packs with its own cache, for use by
// another goroutine.
func (s *objStore) withCache(cacheBytes int) *objStore {
	return &objStore{rp: s.rp, packs: s.packs, cache: newLRU(cacheBytes)}
}

func (s *objStore) close() {
	for _, p := range s.packs {
		p.unmap()
	}
}

func (s *objStore) locate(h plumbing.Hash) (packLoc, bool) {
	for i, p := range s.packs {
		if off, ok := p.find(h); ok {
			return packLoc{int32(i), off}, true
		}
	}
	return packLoc{}, false
}

// resolve returns the type and content of the object at l.
func (s *objStore) resolve(l packLoc) (byte, []byte, error) {
	// The caller's reference is dropped unreleased: the buffer then goes to the
	// collector, never back to the pool while data may be in use.
	t, data, _, _, err := s.resolveHeld(l)
	return t, data, err
}

// resolveHeld is resolve that also returns the delta instructions when the
// object is a delta that was applied now (nil when it came from the cache or is
// whole) and, on a pooled store, the buffer holding the content with a
// reference for the caller to release when done with the content (nil: the
// content is the collector's).
func (s *objStore) resolveHeld(l packLoc) (typ byte, data []byte, ops []deltaOp, held *heldBuf, err error) {
	if e, ok := s.cache.get(l); ok {
		return e.typ, e.data, nil, e.held.hold(), nil
	}
	p := s.packs[l.pack]
	h, err := p.header(l.off)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	switch h.typ {
	case objCommit, objTree, objBlob, objTag:
		if s.pooled && h.typ == objBlob {
			held = getBuf(int(h.size))
			if err := p.inflateInto(h, held.b); err != nil {
				held.release()
				return 0, nil, nil, nil, err
			}
			data = held.b
		} else if data, err = p.inflate(h); err != nil {
			return 0, nil, nil, nil, err
		}
		s.cache.add(l, h.typ, data, held)
		return h.typ, data, nil, held, nil
	}
	typ, base, baseHeld, err := s.base(l, h)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	defer baseHeld.release() // after the cache took the target (and maybe evicted the base)
	delta, err := p.inflate(h)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	n, ops, err := parseDelta(delta, len(base))
	if err != nil {
		return 0, nil, nil, nil, fmt.Errorf("object at %d in %s: %w", l.off, p.name, err)
	}
	if s.pooled && typ == objBlob {
		held = getBuf(n)
		data = applyDeltaInto(held.b, base, ops)
	} else {
		data = applyDelta(base, n, ops)
	}
	s.cache.add(l, typ, data, held)
	return typ, data, ops, held, nil
}

// base resolves the base of delta entry h at l, held as resolveHeld holds it.
func (s *objStore) base(l packLoc, h objHeader) (byte, []byte, *heldBuf, error) {
	if bl, ok := s.baseLoc(l, h); ok {
		t, data, _, held, err := s.resolveHeld(bl)
		return t, data, held, err
	}
	t, data, err := s.rp.goGitRead(h.baseHash)
	return typeByte(t), data, nil, err // goGitRead locks go-git
}

// baseLoc returns where the base of the delta at l lives, if in a pack.
func (s *objStore) baseLoc(l packLoc, h objHeader) (packLoc, bool) {
	if h.typ == objOfsDelta {
		return packLoc{l.pack, h.baseOff}, true
	}
	return s.locate(h.baseHash)
}

func typeByte(t plumbing.ObjectType) byte {
	switch t {
	case plumbing.CommitObject:
		return objCommit
	case plumbing.TreeObject:
		return objTree
	case plumbing.BlobObject:
		return objBlob
	case plumbing.TagObject:
		return objTag
	}
	return 0
}

func objectType(b byte) plumbing.ObjectType {
	switch b {
	case objCommit:
		return plumbing.CommitObject
	case objTree:
		return plumbing.TreeObject
	case objBlob:
		return plumbing.BlobObject
	case objTag:
		return plumbing.TagObject
	}
	return plumbing.InvalidObject
}

// lru caches resolved objects up to a byte budget.
type lru struct {
	max, size int
	// keep: up to this many entries stay even above max, within hardMax bytes
	// (so that a few large blobs, bases of the next deltas, fit a small cache).
	keep, hardMax int
	ll            *list.List
	m             map[packLoc]*list.Element
}

type lruEntry struct {
	key  packLoc
	typ  byte
	data []byte
	held *heldBuf // data's pooled buffer, a reference held by the cache (or nil)
}

func newLRU(max int) *lru {
	return &lru{max: max, hardMax: max, ll: list.New(), m: map[packLoc]*list.Element{}}
}

// reset empties the cache.
func (c *lru) reset() {
	for e := c.ll.Front(); e != nil; e = e.Next() {
		e.Value.(*lruEntry).held.release()
	}
	c.ll.Init()
	clear(c.m)
	c.size = 0
}

func (c *lru) get(k packLoc) (*lruEntry, bool) {
	if e, ok := c.m[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry), true
	}
	return nil, false
}

// add caches data, taking a reference to held (its pooled buffer, or nil).
func (c *lru) add(k packLoc, typ byte, data []byte, held *heldBuf) {
	if len(data) > c.hardMax {
		return
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = c.ll.PushFront(&lruEntry{k, typ, data, held.hold()})
	c.size += len(data)
	for c.size > c.hardMax || c.size > c.max && c.ll.Len() > c.keep {
		e := c.ll.Back()
		en := e.Value.(*lruEntry)
		c.ll.Remove(e)
		delete(c.m, en.key)
		c.size -= len(en.data)
		en.held.release()
	}
}

// readRaw reads object h: from the packs, else through go-git.
func (s *objStore) readRaw(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	if l, ok := s.locate(h); ok {
		t, data, err := s.resolve(l)
		return objectType(t), data, err
	}
	return s.rp.goGitRead(h)
}

// forEach calls fn for every object in the packs with its final type (a delta's
// type is its chain root's).
func (s *objStore) forEach(fn func(h plumbing.Hash, typ byte)) {
	types := map[packLoc]byte{}
	var typeAt func(l packLoc, depth int) byte
	typeAt = func(l packLoc, depth int) byte {
		if t, ok := types[l]; ok {
			return t
		}
		var t byte
		if hd, err := s.packs[l.pack].header(l.off); err == nil {
			switch hd.typ {
			case objOfsDelta, objRefDelta:
				if bl, ok := s.baseLoc(l, hd); ok && depth < 10000 {
					t = typeAt(bl, depth+1)
				} else if hd.typ == objRefDelta {
					if ty, _, err := s.rp.goGitRead(hd.baseHash); err == nil {
						t = typeByte(ty)
					}
				}
			default:
				t = hd.typ
			}
		}
		types[l] = t
		return t
	}
	for pi, p := range s.packs {
		for i := range p.n {
			var h plumbing.Hash
			copy(h[:], p.hashes[20*i:20*i+20])
			fn(h, typeAt(packLoc{int32(pi), p.offset(i)}, 0))
		}
	}
}
