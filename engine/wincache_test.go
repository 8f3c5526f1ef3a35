package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

func TestWinCacheEntries(t *testing.T) {
	c := newWinCache()
	ms := [][]int{{1, 3}}
	h := c.hash(1, []byte("abc"))
	c.put(1, h, []byte("abc"), ms)
	tests := []struct {
		name string
		rule int32
		h    uint64
		win  string
		hit  bool
	}{
		{"same rule and bytes", 1, h, "abc", true},
		{"same slot and hash, other bytes", 1, h, "abd", false},
		{"same bytes, other rule", 2, h, "abc", false},
		{"other hash", 1, h + winSlots, "abc", false},
	}
	for _, tc := range tests {
		got, ok := c.get(tc.rule, tc.h, []byte(tc.win))
		if ok != tc.hit || (ok && !reflect.DeepEqual(got, ms)) {
			t.Errorf("%s: get = %v, %v; want hit %v", tc.name, got, ok, tc.hit)
		}
	}
	long := make([]byte, winMaxLen+1)
	hl := c.hash(1, long)
	c.put(1, hl, long, nil)
	if _, ok := c.get(1, hl, long); ok {
		t.Errorf("a window longer than %d bytes was remembered", winMaxLen)
	}
}

func TestWinCacheBudget(t *testing.T) {
	c := newWinCache()
	w := make([]byte, winMaxLen)
	for i := range 4 * winBudget / winMaxLen {
		copy(w, fmt.Sprintf("%08d", i))
		c.put(0, c.hash(0, w), w, nil)
	}
	if n := c.bytes.Load(); n > winBudget {
		t.Errorf("cache holds %d bytes, budget %d", n, winBudget)
	}
	var held int64
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil {
			held += int64(len(e.win) + winEntryB)
		}
	}
	if held != c.bytes.Load() {
		t.Errorf("slots hold %d bytes, the count says %d", held, c.bytes.Load())
	}
}

// TestWinCacheExact: an engine that has read every window before (a warm cache,
// including the windows of other files hashing to the same slots) reports what a
// fresh engine does.
func TestWinCacheExact(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"a.env":   "password = hunter2secret\nAWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\ntoken: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n",
		"b.env":   "password = hunter2secreT\nAWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM3\ntoken: ghp_0123456789abcdefghijklmnopqrstuvwxyzAC\n",
		"c.go":    strings.Repeat("x := pass\n", 50) + `db := "postgres://u:s3cr3tpassw0rd@db.example.com/x"` + "\n",
		"d.yaml":  "credentials: dGhpcyBpcyBhIHRlc3QgdmFsdWUgMTIzNA==\n",
		"e.empty": "",
	}
	warm, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for name, text := range files {
			fresh, err := New(set, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := fresh.ScanBytes(name, []byte(text))
			got := warm.ScanBytes(name, []byte(text))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round %d, %s: warm engine found %v, a fresh one %v", round, name, got, want)
			}
		}
	}
}
