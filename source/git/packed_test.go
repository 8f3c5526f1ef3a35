package git

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestPackedObjects: the count read from the pack index headers is git's own
// in-pack count, 0 before anything is packed and for a path that is no repository.
func TestPackedObjects(t *testing.T) {
	r := newRepo(t)
	for i := range 3 {
		r.write(fmt.Sprintf("f%d.txt", i), strings.Repeat("line\n", i+1))
		r.commit(fmt.Sprint("commit ", i))
	}
	if n := PackedObjects(r.dir); n != 0 {
		t.Errorf("before packing: %d objects, want 0", n)
	}
	r.git("repack", "-q", "-ad")
	want := -1
	for _, l := range strings.Split(r.git("count-objects", "-v"), "\n") {
		if v, ok := strings.CutPrefix(l, "in-pack: "); ok {
			want, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if want <= 0 {
		t.Fatalf("git count-objects: no in-pack count")
	}
	if n := PackedObjects(r.dir); n != int64(want) {
		t.Errorf("PackedObjects = %d, git counts %d in packs", n, want)
	}
	if n := PackedObjects(t.TempDir()); n != 0 {
		t.Errorf("not a repository: %d objects, want 0", n)
	}
}
