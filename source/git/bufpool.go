package git

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// heldBuf is a pooled buffer holding a resolved blob in a bulk producer's store
// (objStore.pooled). Its owners are the producer's base cache and the engine job
// that scans it, each holding a reference; the last to release it returns it to
// the pool, for the next delta to be applied into. A history scan resolves every
// version of every file (2.5 GiB on a nats-server-sized history): fresh buffers
// for each made the collector run every few tens of megabytes and the kernel
// fault in and give back the same pages again and again.
//
// A reference not released only costs the reuse (the collector frees the
// buffer); releasing one still in use would hand live content to another blob,
// so every release matches one hold, and nothing keeps a slice of the content
// beyond its reference (findings copy what they quote).
type heldBuf struct {
	b    []byte
	refs atomic.Int32
}

// hold takes a reference (on a nil buffer: nothing) and returns h.
func (h *heldBuf) hold() *heldBuf {
	if h != nil {
		h.refs.Add(1)
	}
	return h
}

// release lets go of a reference; the last returns the buffer to its pool.
func (h *heldBuf) release() {
	if h == nil {
		return
	}
	switch n := h.refs.Add(-1); {
	case n == 0:
		putBuf(h)
	case n < 0:
		panic("git: pooled buffer released more often than held")
	}
}

// Buffers come in four sizes per power of two (so at most a quarter is unused),
// from 4 KiB to 64 MiB; other sizes are allocated and left to the collector. Free
// buffers wait in per-size lists, at most freeBudget bytes in all (a sync.Pool
// would lose them at every collection, and a history scan collects often).
const (
	minPooledShift = 12
	maxPooledShift = 26
	classesPerPow  = 4
	nClasses       = (maxPooledShift-minPooledShift)*classesPerPow + 1
	freeBudget     = 32 << 20
	// A request may take a free buffer up to this many classes larger.
	classSlack = 2
)

var free struct {
	sync.Mutex
	lists [nClasses][]*heldBuf
	bytes int
}

// bufClass returns the class of a buffer of n bytes and the capacity of its
// buffers, or -1 when n is not pooled.
func bufClass(n int) (class, capacity int) {
	if n <= 0 || n > 1<<maxPooledShift {
		return -1, 0
	}
	shift := max(bits.Len(uint(n-1)), minPooledShift) // 2^(shift-1) < n <= 2^shift
	if shift == minPooledShift {
		return 0, 1 << minPooledShift
	}
	step := 1 << (shift - 1) / classesPerPow  // a quarter of the octave (2^(shift-1), 2^shift]
	q := (n - 1<<(shift-1) + step - 1) / step // 1..4
	return (shift-minPooledShift-1)*classesPerPow + q, 1<<(shift-1) + q*step
}

// getBuf returns a buffer of n bytes with one reference, its content undefined.
func getBuf(n int) *heldBuf {
	c, capacity := bufClass(n)
	var h *heldBuf
	if c >= 0 {
		free.Lock()
		for k := c; k < min(c+classSlack+1, nClasses) && h == nil; k++ {
			if l := free.lists[k]; len(l) > 0 {
				h = l[len(l)-1]
				l[len(l)-1] = nil
				free.lists[k] = l[:len(l)-1]
				free.bytes -= cap(h.b)
			}
		}
		free.Unlock()
	}
	if h == nil {
		h = &heldBuf{b: make([]byte, max(capacity, n))}
	}
	h.b = h.b[:n]
	h.refs.Store(1)
	return h
}

func putBuf(h *heldBuf) {
	c, capacity := bufClass(cap(h.b))
	if c < 0 || capacity != cap(h.b) {
		return // not a pooled size: left to the collector
	}
	h.b = h.b[:0]
	free.Lock()
	if free.bytes+cap(h.b) <= freeBudget {
		free.lists[c] = append(free.lists[c], h)
		free.bytes += cap(h.b)
	}
	free.Unlock()
}
