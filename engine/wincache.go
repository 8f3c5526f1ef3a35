package engine

import (
	"hash/maphash"
	"sync/atomic"
)

// winCache remembers the regex matches of a rule in windows the engine has read
// before. A window's matches are a function of the rule and the window's bytes
// alone (the regex runs on the window as a whole input), so a remembered answer is
// exact: the entry holds the window's bytes and a lookup compares them in full.
// Git history makes this pay: the lines around an edit are read again in every
// version edited near them (on a nats-server-like history 95% of the windows the
// rules open were read before).
//
// The table is direct-mapped and lock-free: a slot holds one entry, replaced by
// the next window hashing there. It holds at most winBudget bytes of windows.
type winCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[winEntry]
	bytes atomic.Int64
}

type winEntry struct {
	rule int32
	hash uint64
	win  string
	ms   [][]int // the matches, relative to the window; nil for none
}

const (
	winSlots  = 1 << 15
	winMaxLen = 16 << 10  // longer windows are not remembered
	winBudget = 16 << 20  // bytes of windows held at most
	winEntryB = 64 + 24*2 // an entry's own cost besides its bytes, for the budget
)

func newWinCache() *winCache {
	return &winCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[winEntry], winSlots)}
}

func (c *winCache) hash(rule int32, w []byte) uint64 {
	return maphash.Bytes(c.seed, w) ^ (uint64(rule)+1)*0x9e3779b97f4a7c15
}

// get returns the remembered matches of rule in w.
func (c *winCache) get(rule int32, h uint64, w []byte) (ms [][]int, ok bool) {
	e := c.slots[h&(winSlots-1)].Load()
	if e == nil || e.hash != h || e.rule != rule || e.win != string(w) {
		return nil, false
	}
	return e.ms, true
}

// put remembers ms as the matches of rule in w (ms is not modified afterwards).
func (c *winCache) put(rule int32, h uint64, w []byte, ms [][]int) {
	if len(w) > winMaxLen {
		return
	}
	slot := &c.slots[h&(winSlots-1)]
	old := slot.Load()
	grow := int64(len(w) + winEntryB)
	if old != nil {
		grow -= int64(len(old.win) + winEntryB)
	}
	if grow > 0 && c.bytes.Load()+grow > winBudget {
		return
	}
	if slot.CompareAndSwap(old, &winEntry{rule: rule, hash: h, win: string(w), ms: ms}) {
		c.bytes.Add(grow)
	}
}
