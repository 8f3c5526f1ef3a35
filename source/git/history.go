package git

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// graph is the object graph read by a history scan, kept compact: trees and blobs
// are interned to small integers so that provenance can find which trees hold a
// blob with findings without reading any tree again.
type graph struct {
	commits []*commitInfo // discovery order
	byHash  map[plumbing.Hash]*commitInfo
	treeID  map[plumbing.Hash]int32
	trees   []plumbing.Hash // by tree id
	// A tree's entries kept by the walk (subtrees and blobs, in tree order):
	// kids[id] their tree ids, or ^blob id for blobs, and nameLists[kidNames[id]]
	// their names. Name lists are shared: most trees of a history have the
	// entry names of another one.
	kids       [][]int32
	kidNames   []int32
	nameLists  [][]int32
	nameListID map[string]int32
	broken     map[int32]bool // tree ids that could not be read (whole)
	names      []string       // entry names, interned (kid.name)
	nameID     map[string]int32
	blobID     map[plumbing.Hash]int32
	blobs      []plumbing.Hash
	tags       []*tagInfo // annotated tags whose messages were scanned, with their hash in target
	tagHash    []plumbing.Hash
	roots      []root // trees and blobs reachable from refs or dangling, but from no commit
	walkedAt   map[treeAt]bool
	// Directories are interned: dirPath[id] is the path ("" the top, else ending
	// in "/"), subdir[{dir, name}] the id of dir's entry name (treeAt keys hold no
	// strings).
	dirPath []string
	subdir  map[[2]int32]int32
	// With path classes: at[{dir, name}] is that path's kept copy and class id,
	// and blobClass[blob] the class id a blob was first queued under (-1: not
	// through the walk), so a blob met again under the same class costs no lookup
	// of (blob, class) keys.
	at        map[[2]int32]pathAt
	classID   map[string]int32
	blobClass []int32
}

// pathAt is a path's kept copy (session.interned) and its class id.
type pathAt struct {
	path  string
	class int32
}

// kid is a tree entry kept by the walk: an interned name and a tree id, or ^blob
// id for a blob. Provenance lists paths from these without reading trees again.
type kid struct {
	name int32
	id   int32
}

func (k kid) tree() bool { return k.id >= 0 }

// kidsOf calls fn for each entry the walk kept of tree id, in order.
func (g *graph) kidsOf(id int32, fn func(kid)) {
	ids := g.kids[id]
	if len(ids) == 0 {
		return
	}
	names := g.nameLists[g.kidNames[id]]
	for i, x := range ids {
		fn(kid{names[i], x})
	}
}

// keep stores tree id's entries.
func (g *graph) keep(id int32, kids []kid) {
	ids := make([]int32, len(kids))
	key := make([]byte, 0, 4*len(kids))
	for i, k := range kids {
		ids[i] = k.id
		key = binary.LittleEndian.AppendUint32(key, uint32(k.name))
	}
	l, ok := g.nameListID[string(key)]
	if !ok {
		l = int32(len(g.nameLists))
		names := make([]int32, len(kids))
		for i, k := range kids {
			names[i] = k.name
		}
		g.nameLists = append(g.nameLists, names)
		g.nameListID[string(key)] = l
	}
	g.kids[id], g.kidNames[id] = ids, l
}

// nameOf interns an entry name (no allocation when it is known).
func (g *graph) nameOf(b []byte) int32 {
	id, ok := g.nameID[string(b)]
	if !ok {
		id = int32(len(g.names))
		n := string(b)
		g.nameID[n] = id
		g.names = append(g.names, n)
	}
	return id
}

// treeAt is a tree at a directory path (an id in graph.dirs).
type treeAt struct {
	hash plumbing.Hash
	dir  int32
}

// sub interns directory dir's subdirectory name.
func (g *graph) sub(dir, name int32) int32 {
	k := [2]int32{dir, name}
	id, ok := g.subdir[k]
	if !ok {
		id = int32(len(g.dirPath))
		g.subdir[k] = id
		g.dirPath = append(g.dirPath, g.dirPath[dir]+g.names[name]+"/")
	}
	return id
}

// pathAt is the path of entry name in directory dir, with its class.
func (s *session) pathAt(g *graph, dir, name int32) pathAt {
	k := [2]int32{dir, name}
	p, ok := g.at[k]
	if !ok {
		path, class := s.interned(g.dirPath[dir] + g.names[name])
		id, ok := g.classID[class]
		if !ok {
			id = int32(len(g.classID))
			g.classID[class] = id
		}
		p = pathAt{path, id}
		g.at[k] = p
	}
	return p
}

type root struct {
	name string // ref name, or "" for a dangling object
	hash plumbing.Hash
	tree bool
}

func newGraph() *graph {
	return &graph{
		byHash:     map[plumbing.Hash]*commitInfo{},
		treeID:     map[plumbing.Hash]int32{},
		broken:     map[int32]bool{},
		nameID:     map[string]int32{},
		nameListID: map[string]int32{},
		blobID:     map[plumbing.Hash]int32{},
		walkedAt:   map[treeAt]bool{},
		dirPath:    []string{""},
		subdir:     map[[2]int32]int32{},
		at:         map[[2]int32]pathAt{},
		classID:    map[string]int32{},
	}
}

// history scans every blob reachable from any ref, each once, and commit messages.
func (s *session) history() {
	g := newGraph()
	tips := s.tips(g)
	// Three goroutines in a line: commits are read (walkCommits), their trees
	// read ahead (prefetch), and the trees walked here, in discovery order.
	found := make(chan *commitInfo, 1024)
	walked := make(chan struct{})
	var cstore *objStore
	if s.rp.store != nil {
		cstore = s.rp.store.withCache(1 << 20)
	}
	go func() {
		defer close(walked)
		defer close(found)
		s.walkCommits(g, tips, cstore, found)
	}()
	s.pf = s.startPrefetch(found)
	for s.ctx.Err() == nil {
		c, ok := s.pf.next()
		if !ok {
			break
		}
		s.walkTree(g, c.tree, 0)
	}
	s.pf.halt()
	rest := s.pf.taken // commits the prefetcher took and the walk did not
	s.pf = nil
	for c := range found {
		rest = append(rest, c)
	}
	<-walked
	for _, c := range rest {
		if s.ctx.Err() != nil {
			break
		}
		s.walkTree(g, c.tree, 0)
	}
	if s.ctx.Err() != nil {
		return
	}
	for _, r := range g.roots {
		if r.tree {
			s.walkTree(g, r.hash, 0)
		} else {
			s.internBlob(g, r.hash, r.name)
		}
	}
	if s.opts.IncludeUnreachable {
		s.unreachable(g)
	}
	s.stats.Commits = len(g.commits)
	s.stats.Trees = len(g.trees)
	s.stats.Blobs = len(g.blobs)
	s.rp.store.cache.reset() // the walk's trees; the producers have caches of their own
	s.scanAll()
	s.drain()
	s.attribute(g)
}

// tips resolves every reference (and the stash reflog) to the commits to walk,
// peeling annotated tags (whose messages are scanned) and recording tags that
// point at trees or blobs as roots.
func (s *session) tips(g *graph) []plumbing.Hash {
	var tips []plumbing.Hash
	iter, err := s.rp.st.IterReferences()
	if err != nil {
		s.problem(fmt.Errorf("listing references: %w (run `git fsck` and repair the refs)", err))
		return nil
	}
	var refs []*plumbing.Reference
	err = iter.ForEach(func(r *plumbing.Reference) error {
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		s.problem(fmt.Errorf("listing references: %w (run `git fsck` and repair the refs)", err))
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name() < refs[j].Name() })
	seenTag := map[plumbing.Hash]bool{}
	for _, ref := range refs {
		if ref.Type() != plumbing.HashReference {
			continue // symbolic (HEAD -> branch): its target is listed itself
		}
		s.stats.Refs++
		if ref.Hash().IsZero() {
			s.problem(fmt.Errorf("ref %s is malformed (its file does not hold a 40-hex object name); delete or repair it (`git fsck` lists broken refs)", ref.Name()))
			continue
		}
		tips = s.peel(g, ref.Name().String(), ref.Hash(), tips, seenTag)
	}
	for _, wt := range s.rp.worktreeHeads() { // detached HEADs of linked worktrees
		tips = s.peel(g, wt.name, wt.hash, tips, seenTag)
	}
	stash, err := s.rp.reflog("refs/stash")
	if err != nil {
		s.problem(fmt.Errorf("reading the stash reflog: %w", err))
	}
	for i, h := range stash {
		tips = s.peel(g, fmt.Sprintf("stash@{%d}", len(stash)-1-i), h, tips, seenTag)
	}
	return tips
}

func (s *session) peel(g *graph, name string, h plumbing.Hash, tips []plumbing.Hash, seenTag map[plumbing.Hash]bool) []plumbing.Hash {
	for depth := 0; depth < 16; depth++ {
		// Through the pack store (go-git's would load its own index of every object).
		typ, data, err := s.rp.readObject(h)
		if err != nil {
			s.problem(fmt.Errorf("ref %s points at %s, which cannot be read: %v (delete or repair the ref; `git fsck` lists broken refs)", name, h, err))
			return tips
		}
		switch typ {
		case plumbing.CommitObject:
			return append(tips, h)
		case plumbing.TreeObject:
			g.roots = append(g.roots, root{name: name, hash: h, tree: true})
			return tips
		case plumbing.BlobObject:
			g.roots = append(g.roots, root{name: name, hash: h})
			return tips
		case plumbing.TagObject:
			t, err := parseTag(data)
			if err != nil {
				s.problem(objectProblem("tag "+name, h, err))
				return tips
			}
			if !seenTag[h] {
				seenTag[h] = true
				g.tags = append(g.tags, t)
				g.tagHash = append(g.tagHash, h)
				s.scanMessage(h, TagMessagePath, t.message)
			}
			h = t.target
		default:
			s.problem(fmt.Errorf("ref %s points at %s, an object of unknown type", name, h))
			return tips
		}
	}
	s.problem(fmt.Errorf("ref %s: tag chain longer than 16", name))
	return tips
}

func (s *session) scanMessage(h plumbing.Hash, path string, msg []byte) {
	if len(msg) == 0 {
		return
	}
	s.stats.Messages++
	key := resultKey{hash: h, msg: true} // (not in s.scanned: the walk of trees owns it)
	s.pool.submit(job{key: key, name: path + " of " + h.String(), blob: source.Blob{ID: h.String(), Path: path, Data: msg}})
}

// walkCommits reads every commit reachable from tips through store, scanning
// messages, and sends each new commit to found when it is not nil (while it
// runs, g's commits belong to it).
func (s *session) walkCommits(g *graph, tips []plumbing.Hash, store *objStore, found chan<- *commitInfo) {
	shallow := s.rp.shallow()
	if len(shallow) > 0 {
		s.problem(fmt.Errorf("shallow clone: history before %d commit(s) (e.g. %s) is not in the repository and was not scanned (run `git fetch --unshallow` and scan again)", len(shallow), firstHash(shallow)))
	}
	stack := append([]plumbing.Hash(nil), tips...)
	seen := map[plumbing.Hash]bool{}
	for len(stack) > 0 {
		if s.ctx.Err() != nil {
			return
		}
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := s.rp.readCommitFrom(store, h)
		if err != nil {
			s.problem(objectProblem("commit", h, err))
			continue
		}
		g.commits = append(g.commits, c)
		g.byHash[h] = c
		if found != nil {
			found <- c
		}
		s.scanMessage(h, CommitMessagePath, c.message)
		if shallow[h] {
			continue
		}
		for i := len(c.parents) - 1; i >= 0; i-- {
			if !seen[c.parents[i]] {
				stack = append(stack, c.parents[i])
			}
		}
	}
}

func firstHash(m map[plumbing.Hash]bool) plumbing.Hash {
	var hs []plumbing.Hash
	for h := range m {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].String() < hs[j].String() })
	return hs[0]
}

// walkTree interns tree h and everything below it, scanning new blobs. A tree is
// read once; with path classes, walked once per directory path it appears at
// (from its kept entries), since the same content under another path may get
// another engine result.
func (s *session) walkTree(g *graph, h plumbing.Hash, dir int32) int32 {
	id, seen := g.treeID[h]
	at := treeAt{h, dir}
	if seen {
		if s.opts.PathClass == nil || g.walkedAt[at] {
			return id
		}
		g.walkedAt[at] = true
		g.kidsOf(id, func(k kid) {
			if k.tree() {
				s.walkTree(g, g.trees[k.id], g.sub(dir, k.name))
			} else {
				s.walkBlob(g, g.blobs[^k.id], dir, k.name)
			}
		})
		return id
	}
	id = int32(len(g.trees))
	g.treeID[h] = id
	g.trees = append(g.trees, h)
	g.kids = append(g.kids, nil)
	g.kidNames = append(g.kidNames, 0)
	if s.opts.PathClass != nil {
		g.walkedAt[at] = true
	}
	data, err := s.readTree(s.pf, h)
	var kids []kid
	for err == nil && len(data) > 0 {
		var e rawEntry
		if e, data, err = nextEntry(data); err != nil {
			break
		}
		switch {
		case e.isDir():
			n := g.nameOf(e.name)
			kids = append(kids, kid{n, s.walkTree(g, e.hash, g.sub(dir, n))})
		case e.isBlob():
			n := g.nameOf(e.name)
			kids = append(kids, kid{n, ^s.walkBlob(g, e.hash, dir, n)})
		case e.mode == modeGitlink:
			s.gitlink(g.dirPath[dir] + string(e.name))
		}
	}
	if err != nil {
		g.broken[id] = true
		what := "tree"
		if dir != 0 {
			what = "tree " + strings.TrimSuffix(g.dirPath[dir], "/")
		}
		s.problem(objectProblem(what, h, err))
	}
	g.keep(id, kids)
	return id
}

// walkBlob is internBlob for a tree entry: entry name in directory dir.
func (s *session) walkBlob(g *graph, h plumbing.Hash, dir, name int32) int32 {
	if s.opts.PathClass == nil {
		id, ok := g.blobID[h]
		if ok {
			return id
		}
		return s.internBlob(g, h, g.dirPath[dir]+g.names[name])
	}
	p := s.pathAt(g, dir, name)
	id, ok := g.blobID[h]
	if ok && g.blobClass[id] == p.class {
		return id // queued under this class already
	}
	id = s.internBlob(g, h, p.path)
	if g.blobClass[id] < 0 {
		g.blobClass[id] = p.class
	}
	return id
}

func (s *session) internBlob(g *graph, h plumbing.Hash, path string) int32 {
	id, ok := g.blobID[h]
	if !ok {
		id = int32(len(g.blobs))
		g.blobID[h] = id
		g.blobs = append(g.blobs, h)
		g.blobClass = append(g.blobClass, -1)
	}
	if !ok || s.opts.PathClass != nil {
		s.queue(h, path)
	}
	return id
}

// unreachable adds dangling commits (and their history), trees and blobs.
func (s *session) unreachable(g *graph) {
	var commits, trees, blobs []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	add := func(h plumbing.Hash, t plumbing.ObjectType) {
		if seen[h] {
			return
		}
		seen[h] = true
		switch t {
		case plumbing.CommitObject:
			if g.byHash[h] == nil {
				commits = append(commits, h)
			}
		case plumbing.TreeObject:
			if _, ok := g.treeID[h]; !ok {
				trees = append(trees, h)
			}
		case plumbing.BlobObject:
			if _, ok := g.blobID[h]; !ok {
				blobs = append(blobs, h)
			}
		}
	}
	s.rp.store.forEach(func(h plumbing.Hash, t byte) { add(h, objectType(t)) })
	// Loose objects, through go-git.
	if fs, ok := s.rp.st.(interface {
		ForEachObjectHash(func(plumbing.Hash) error) error
	}); ok {
		var loose []plumbing.Hash
		err := fs.ForEachObjectHash(func(h plumbing.Hash) error {
			loose = append(loose, h)
			return nil
		})
		if err != nil {
			s.problem(fmt.Errorf("listing loose objects for --include-unreachable: %w", err))
		}
		for _, h := range loose {
			if seen[h] {
				continue
			}
			t, _, err := s.rp.goGitRead(h)
			if err != nil {
				s.problem(objectProblem("object", h, err))
				continue
			}
			add(h, t)
		}
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i].String() < commits[j].String() })
	sort.Slice(trees, func(i, j int) bool { return trees[i].String() < trees[j].String() })
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].String() < blobs[j].String() })
	n := len(g.commits)
	s.walkCommits(g, commits, s.rp.store, nil)
	for _, c := range g.commits[n:] {
		s.walkTree(g, c.tree, 0)
	}
	for _, h := range trees {
		if _, ok := g.treeID[h]; !ok {
			g.roots = append(g.roots, root{hash: h, tree: true})
			s.walkTree(g, h, 0)
		}
	}
	for _, h := range blobs {
		if _, ok := g.blobID[h]; !ok {
			g.roots = append(g.roots, root{hash: h})
			s.internBlob(g, h, "")
		}
	}
}

// loc is one blob with findings at one path of a tree: an interned path (see
// attributor.paths) and a blob id (graph.blobs). Eight bytes, as there is a list
// of them for every tree holding blobs with findings.
type loc struct {
	path int32
	blob int32
}

// attribute turns engine results into findings with provenance: for each commit
// and path holding a blob with findings, a secret is reported where the commit
// introduced it there, i.e. no parent has the same secret (fingerprint) at that
// path, and no parent had it at a path that this commit deleted or changed to drop
// it (a move). Line and column are those of that commit's version.
func (s *session) attribute(g *graph) {
	for _, c := range g.commits {
		if fs, ok := s.pool.get(resultKey{hash: c.hash, msg: true}); ok {
			for _, f := range fs {
				s.emit(f, CommitMessagePath, c)
			}
		}
	}
	for i, t := range g.tags {
		if fs, ok := s.pool.get(resultKey{hash: g.tagHash[i], msg: true}); ok {
			for _, f := range fs {
				f.File = TagMessagePath
				f.Author, f.Email = t.tagger, t.email
				if !t.when.IsZero() {
					f.Date = t.when.Format(time.RFC3339)
				}
				if t.targetType == plumbing.CommitObject {
					f.Commit = t.target.String()
				}
				s.out = append(s.out, f)
			}
		}
	}
	hot := make([]bool, len(g.blobs)) // blobs with findings under some class
	any := false
	for k, fs := range s.pool.results {
		if !k.msg && len(fs) > 0 {
			if id, ok := g.blobID[k.hash]; ok {
				hot[id], any = true, true
			}
		}
	}
	if !any {
		return
	}
	a := &attributor{s: s, g: g, hot: hot, holds: make([]int8, len(g.trees)), locs: make([][]loc, len(g.trees)), listed: make([]bool, len(g.trees)), pathID: map[pathKey]int32{}, rebased: map[[2]int32]int32{}}
	reported := make([]bool, len(g.blobs))
	for _, c := range g.commits {
		if s.ctx.Err() != nil {
			return
		}
		cur := a.locsOf(c.tree)
		if len(cur) == 0 {
			continue
		}
		var parents [][]loc
		same := false
		for _, p := range c.parents {
			if pc := g.byHash[p]; pc != nil {
				pl := a.locsOf(pc.tree)
				parents = append(parents, pl)
				// A parent holding every blob with findings at the same path: all
				// of them are inherited (see inherited).
				same = same || slices.Equal(pl, cur)
			}
		}
		if same {
			for _, l := range cur {
				reported[l.blob] = true
			}
			continue
		}
		for _, l := range cur {
			reported[l.blob] = true
			for _, f := range a.findings(l) {
				if !a.inherited(f.Fingerprint, l, cur, parents) {
					s.emit(f, a.path(l.path), c)
				}
			}
		}
	}
	// Blobs with findings that no commit holds: behind tags to trees or blobs, or dangling.
	for _, r := range g.roots {
		var ls []loc
		if r.tree {
			ls = a.locsOf(r.hash)
		} else if id := g.blobID[r.hash]; hot[id] {
			ls = []loc{{path: a.intern(-1, r.name), blob: id}}
		}
		for _, l := range ls {
			if reported[l.blob] {
				continue
			}
			reported[l.blob] = true
			path := a.path(l.path)
			if path == "" {
				path = "blob:" + g.blobs[l.blob].String()
			}
			for _, f := range a.findings(l) {
				f.File = path + f.File // an archive member's chain follows the path
				s.out = append(s.out, f)
			}
		}
	}
}

// inherited reports whether the secret fp at path in a commit (whose blobs with
// findings are cur) came from a parent: at the same path, or moved from a path
// that no longer holds it.
func (a *attributor) inherited(fp string, at loc, cur []loc, parents [][]loc) bool {
	for _, pl := range parents {
		for _, l := range pl {
			if l.path == at.path && a.has(l, fp) {
				return true
			}
		}
	}
	for _, pl := range parents {
		for _, l := range pl {
			if l.path == at.path || !a.has(l, fp) {
				continue
			}
			still := false
			for _, c := range cur {
				if c.path == l.path && a.has(c, fp) {
					still = true
					break
				}
			}
			if !still {
				return true
			}
		}
	}
	return false
}

// has reports whether blob h at path has a finding with fingerprint fp.
func (s *session) has(h plumbing.Hash, path, fp string) bool {
	fs := s.findingsAt(h, path)
	if len(fs) < 8 {
		for _, f := range fs {
			if f.Fingerprint == fp {
				return true
			}
		}
		return false
	}
	key := resultKey{hash: h, class: s.class(path)}
	set, ok := s.fps[key]
	if !ok {
		set = make(map[string]bool, len(fs))
		for _, f := range fs {
			set[f.Fingerprint] = true
		}
		s.fps[key] = set
	}
	return set[fp]
}

func (s *session) emit(f finding.Finding, path string, c *commitInfo) {
	f.File = path + f.File // an archive member's chain follows the path
	f.Commit = c.hash.String()
	f.Author = c.author
	f.Email = c.email
	if !c.when.IsZero() {
		f.Date = c.when.Format(time.RFC3339)
	}
	s.out = append(s.out, f)
}

// attributor finds, per tree, the paths of blobs with findings.
type attributor struct {
	s      *session
	g      *graph
	hot    []bool
	holds  []int8  // by tree id: 0 unknown, 1 holds a hot blob below, -1 does not
	locs   [][]loc // by tree id, when listed
	memo   map[loc][]finding.Finding
	listed []bool
	// Paths are interned: pathID[{dir, name}] is the id of dir's path + "/" + name
	// (dir -1: the top), and paths[id] its pieces; the string is built on use.
	pathID  map[pathKey]int32
	paths   []pathKey
	strs    map[int32]string
	rebased map[[2]int32]int32
}

type pathKey struct {
	dir  int32
	name string
}

func (a *attributor) intern(dir int32, name string) int32 {
	k := pathKey{dir, name}
	id, ok := a.pathID[k]
	if !ok {
		id = int32(len(a.paths))
		a.pathID[k] = id
		a.paths = append(a.paths, k)
	}
	return id
}

func (a *attributor) path(id int32) string {
	if s, ok := a.strs[id]; ok {
		return s
	}
	k := a.paths[id]
	s := k.name
	if k.dir >= 0 {
		s = a.path(k.dir) + "/" + k.name
	}
	if a.strs == nil {
		a.strs = map[int32]string{}
	}
	a.strs[id] = s
	return s
}

// rebase is the id of path id (relative to a directory) below directory dir.
func (a *attributor) rebase(id, dir int32) int32 {
	if r, ok := a.rebased[[2]int32{id, dir}]; ok {
		return r
	}
	k := a.paths[id]
	var r int32
	if k.dir < 0 {
		r = a.intern(dir, k.name)
	} else {
		r = a.intern(a.rebase(k.dir, dir), k.name)
	}
	a.rebased[[2]int32{id, dir}] = r
	return r
}

// findings are l's blob's findings as seen at l's path (memoized by loc).
func (a *attributor) findings(l loc) []finding.Finding {
	if fs, ok := a.memo[l]; ok {
		return fs
	}
	fs := a.s.findingsAt(a.g.blobs[l.blob], a.path(l.path))
	if a.memo == nil {
		a.memo = map[loc][]finding.Finding{}
	}
	a.memo[l] = fs
	return fs
}

func (a *attributor) has(l loc, fp string) bool {
	fs := a.findings(l)
	if len(fs) < 8 {
		for _, f := range fs {
			if f.Fingerprint == fp {
				return true
			}
		}
		return false
	}
	return a.s.has(a.g.blobs[l.blob], a.path(l.path), fp)
}

func (a *attributor) treeHolds(id int32) bool {
	switch a.holds[id] {
	case 1:
		return true
	case -1:
		return false
	}
	a.holds[id] = -1
	for _, x := range a.g.kids[id] {
		if x < 0 && a.hot[^x] {
			a.holds[id] = 1
			return true
		}
	}
	for _, x := range a.g.kids[id] {
		if x >= 0 && a.treeHolds(x) {
			a.holds[id] = 1
			return true
		}
	}
	return false
}

// locsOf lists the hot blobs under tree h with their paths.
func (a *attributor) locsOf(h plumbing.Hash) []loc {
	id, ok := a.g.treeID[h]
	if !ok {
		return nil
	}
	return a.locsOfID(id)
}

// locsOfID is locsOf by tree id (memoized), from the entries the walk kept.
func (a *attributor) locsOfID(id int32) []loc {
	if a.listed[id] {
		return a.locs[id]
	}
	a.listed[id] = true
	if a.g.broken[id] || !a.treeHolds(id) {
		return nil // a broken tree was reported when it was walked
	}
	var out []loc
	a.g.kidsOf(id, func(k kid) {
		name := a.g.names[k.name]
		if k.tree() {
			sub := a.locsOfID(k.id)
			if len(sub) == 0 {
				return
			}
			dir := a.intern(-1, name)
			for _, l := range sub {
				out = append(out, loc{path: a.rebase(l.path, dir), blob: l.blob})
			}
		} else if a.hot[^k.id] {
			out = append(out, loc{path: a.intern(-1, name), blob: ^k.id})
		}
	})
	a.locs[id] = out
	return out
}
