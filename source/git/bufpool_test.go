package git

import "testing"

func TestBufClass(t *testing.T) {
	tests := []struct {
		n, class, capacity int
	}{
		{0, -1, 0},
		{1, 0, 4096},
		{4096, 0, 4096},
		{4097, 1, 5120},
		{5120, 1, 5120},
		{5121, 2, 6144},
		{8192, 4, 8192},
		{8193, 5, 10240},
		{1 << 26, nClasses - 1, 1 << 26},
		{1<<26 + 1, -1, 0},
	}
	for _, tc := range tests {
		c, capacity := bufClass(tc.n)
		if c != tc.class || capacity != tc.capacity {
			t.Errorf("bufClass(%d) = %d, %d; want %d, %d", tc.n, c, capacity, tc.class, tc.capacity)
		}
		if c >= 0 && (capacity < tc.n || capacity > tc.n+tc.n/4+4096) {
			t.Errorf("bufClass(%d): capacity %d", tc.n, capacity)
		}
	}
}

// TestHeldBuf: a buffer goes back to the pool only when its last reference is
// released, and one released too often panics rather than being handed out twice.
func TestHeldBuf(t *testing.T) {
	h := getBuf(5000)
	if len(h.b) != 5000 || h.refs.Load() != 1 {
		t.Fatalf("getBuf(5000): len %d, refs %d", len(h.b), h.refs.Load())
	}
	h.hold() // a second owner (the cache)
	h.release()
	if g := getBuf(5000); g == h {
		t.Fatal("a buffer with an owner left was handed out again")
	}
	h.release()
	if g := getBuf(5000); g != h {
		t.Error("a released buffer was not reused")
	} else {
		g.release()
	}
	defer func() {
		if recover() == nil {
			t.Error("releasing a free buffer did not panic")
		}
	}()
	h.release()
}

// TestLRUKeep: a cache keeps its last `keep` entries above its byte budget, up
// to hardMax, and releases each evicted entry's buffer.
func TestLRUKeep(t *testing.T) {
	tests := []struct {
		name            string
		max, keep, hard int
		sizes           []int
		want            int // entries left
	}{
		{"budget only", 100, 0, 100, []int{60, 60, 60}, 1},
		{"keep above budget", 100, 2, 1000, []int{60, 60, 60}, 2},
		{"keep within hardMax", 100, 8, 150, []int{60, 60, 60}, 2},
		{"small entries: budget rules", 100, 2, 1000, []int{10, 10, 10, 10, 10}, 5},
		{"larger than hardMax: not cached", 100, 2, 150, []int{200}, 0},
	}
	for _, tc := range tests {
		c := newLRU(tc.max)
		c.keep, c.hardMax = tc.keep, tc.hard
		var bufs []*heldBuf
		for i, n := range tc.sizes {
			h := &heldBuf{b: make([]byte, n)} // not a pooled size: never handed out again
			h.refs.Store(1)
			bufs = append(bufs, h)
			c.add(packLoc{off: int64(i)}, objBlob, h.b, h)
			h.release() // the cache's reference is left
		}
		if c.ll.Len() != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.name, c.ll.Len(), tc.want)
		}
		for i, h := range bufs {
			_, cached := c.m[packLoc{off: int64(i)}]
			if want := int32(0); cached {
				want = 1
				if h.refs.Load() != want {
					t.Errorf("%s: entry %d holds %d references, want %d", tc.name, i, h.refs.Load(), want)
				}
			} else if h.refs.Load() != 0 {
				t.Errorf("%s: evicted entry %d still holds %d references", tc.name, i, h.refs.Load())
			}
		}
		c.reset()
	}
}
