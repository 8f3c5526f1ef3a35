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
