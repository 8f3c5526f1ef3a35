package git

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/engine/enginetest"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/pipeline"
	"github.com/tokenward/tokenward/rules"
)

// secretSamples are texts the built-in rules report: single-line tokens and
// multi-line private keys (a spanning rule), from the rules' own examples.
func secretSamples(t testing.TB) (single, multi []string) {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"github-pat": true, "slack-bot-token": true, "aws-access-key-id": true,
		"gitlab-pat": true, "private-key-rsa": true, "private-key-ec": true, "openai-api-key": true,
		"gcp-service-account-key": true, "stripe-secret-key": true, "curl-basic-auth": true,
		"kubernetes-secret-data": true, "kubernetes-secret-data-before-kind": true, "jwk-private-key": true,
		"xml-secret-element": true, "curl-token-as-user": true}
	for _, r := range set.Rules {
		if !want[r.ID] {
			continue
		}
		for _, ex := range r.Examples {
			if strings.Contains(ex, "\n") {
				multi = append(multi, ex)
			} else {
				single = append(single, ex)
			}
		}
	}
	if len(single) < 5 || len(multi) < 2 {
		t.Fatalf("built-in examples: %d single-line, %d multi-line; the test needs more", len(single), len(multi))
	}
	return single, multi
}

// textGen makes file content: ordinary lines, long generated lines (some longer
// than any rule's reach), secrets alone, inside long lines, and across lines.
type textGen struct {
	r             *rand.Rand
	single, multi []string
}

func (g *textGen) longLine(n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF ,.;"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[g.r.IntN(len(alpha))]
	}
	return "\tvar blob = \"" + string(b) + "\"\n"
}

func (g *textGen) line() string {
	switch k := g.r.IntN(200); {
	case k < 6:
		return g.longLine(2000 + g.r.IntN(14000)) // up to twice the built-in reach
	case k < 12:
		return "\tkey := \"" + g.single[g.r.IntN(len(g.single))] + "\"\n"
	case k < 15: // a secret inside a long line, far from both ends
		l := g.longLine(3000 + g.r.IntN(9000))
		at := 100 + g.r.IntN(len(l)-200)
		return l[:at] + " " + g.single[g.r.IntN(len(g.single))] + " " + l[at:]
	case k < 20:
		return g.multi[g.r.IntN(len(g.multi))] + "\n"
	case k < 22: // a spanning rule's anchor with no secret
		return "\t// -----BEGIN RSA PRIVATE KEY----- goes in the config, see curl docs\n"
	case k < 30: // what the hygiene checks flag (URLs, Authorization headers)
		return hygieneSamples[g.r.IntN(len(hygieneSamples))] + "\n"
	default:
		return fmt.Sprintf("\tvalue%d := compute(%d) // ordinary code\n", g.r.IntN(1e6), g.r.IntN(1e6))
	}
}

func (g *textGen) text(lines int) []byte {
	var b bytes.Buffer
	for range lines {
		b.WriteString(g.line())
	}
	return b.Bytes()
}

// hygieneSamples are lines the URL and header checks flag.
var hygieneSamples = []string{
	`	u := "https://deploy:Zq8vW2mN4xR7tK1p@git.internal.corp/repo.git"`,
	`	resp, _ := http.Get("https://api.vendor.io/v2/items?page=2&access_token=Zq8vW2mN4xR7tK1pQ3sL9")`,
	`	url := "https://api.vendor.io/v2/items?api_key=" + os.Getenv("KEY")`,
	`	req.Header.Set("Authorization", "Bearer" + token)`,
	`	req.Header.Set("Authorisation", "Bearer "+token)`,
	`	fetch(u, {headers: {"Authorization": "Zq8vW2mN4xR7tK1pQ3sL9xY2"}})`,
	`	h := "Bearer" + tok // joined`,
}

// fromBase builds a target from base as a delta would: copies of base ranges
// (cut anywhere, not only at line starts, mostly in order) and inserts.
func (g *textGen) fromBase(base []byte) ([]byte, []deltaOp) {
	var target []byte
	var ops []deltaOp
	insert := func(lit []byte) {
		if len(lit) == 0 {
			return
		}
		ops = append(ops, deltaOp{src: -1, dst: len(target), n: len(lit), lit: lit})
		target = append(target, lit...)
	}
	at := 0
	for at < len(base) {
		n := min(len(base)-at, 1+g.r.IntN(max(len(base)/2, 2)))
		if g.r.IntN(10) > 0 {
			ops = append(ops, deltaOp{src: at, dst: len(target), n: n})
			target = append(target, base[at:at+n]...)
		}
		at += n
		switch g.r.IntN(6) {
		case 0:
			insert(g.text(1 + g.r.IntN(3)))
		case 1: // a few bytes, which can split a line or a secret
			insert([]byte(g.single[g.r.IntN(len(g.single))][:1+g.r.IntN(8)]))
		case 2:
			if g.r.IntN(2) == 0 && at > 0 { // jump back: copy an earlier range again
				at = g.r.IntN(at)
			}
		}
	}
	if g.r.IntN(3) == 0 {
		insert(g.text(1))
	}
	return target, ops
}

type loc4 struct {
	rule, fp                   string
	line, col, endLine, endCol int
}

func locs(fs []finding.Finding) []loc4 {
	out := make([]loc4, 0, len(fs))
	for _, f := range fs {
		out = append(out, loc4{f.RuleID, f.Fingerprint, f.Line, f.Column, f.EndLine, f.EndColumn})
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// minus is a without the elements of b (multisets, both sorted).
func minus(a, b []loc4) []loc4 {
	var out []loc4
	for _, x := range a {
		if i := slices.Index(b, x); i >= 0 {
			b = slices.Delete(slices.Clone(b), i, i+1)
			continue
		}
		out = append(out, x)
	}
	return out
}

// TestPlanExact: for random bases and delta-like targets, the windows plan scans
// plus the base's findings on the lines taken from it are exactly a full scan's
// findings of the target, with the built-in rules (spanning ones included).
func TestPlanExact(t *testing.T) {
	eng := enginetest.Builtin(t)
	hyg := hygiene.New(hygiene.DefaultConfig())
	single, multi := secretSamples(t)
	s := &session{local: eng}
	carriedChecks := 0
	if eng.Reach() == 0 {
		t.Fatal("the built-in rules have spanning rules: Reach should be > 0")
	}
	planned, savedBytes, total := 0, 0, 0
	cases := uint64(200)
	if raceOn {
		cases = 50
	}
	for seed := range cases {
		g := &textGen{r: rand.New(rand.NewPCG(seed, 14)), single: single, multi: multi}
		base := g.text(50 + g.r.IntN(400))
		target, ops := g.fromBase(base)
		if len(target) == 0 {
			continue
		}
		if got := applyDelta(base, len(target), ops); !bytes.Equal(got, target) {
			t.Fatalf("seed %d: the generated ops do not rebuild the target", seed)
		}
		full, err := eng.Scan(engine.Blob{Path: "f.go", Data: target})
		if err != nil {
			t.Fatal(err)
		}
		total += len(target)
		// The hits carried through the delta are the target's own.
		var hc hitCache
		bh := hc.full(eng, base)
		th := bh.through(eng, target, ops)
		if want := hc.full(eng, target); !slices.Equal(th.h, want.h) {
			t.Fatalf("seed %d: spanning hits carried through the delta %v, want the target's %v", seed, th.h, want.h)
		}
		wins, maps, ok := s.plan(base, target, ops, nil, nil)
		w2, m2, ok2 := s.plan(base, target, ops, bh, th)
		if ok != ok2 || !slices.Equal(wins, w2) || !slices.Equal(maps, m2) {
			t.Fatalf("seed %d: plans differ with and without hit lists", seed)
		}
		if !ok {
			continue
		}
		planned++
		baseFs, _ := eng.Scan(engine.Blob{Path: "f.go", Data: base})
		var got []finding.Finding
		scanned := 0
		for _, w := range wins {
			scanned += w.end - w.start
			if w.start > 0 && target[w.start-1] != '\n' || w.end > w.start && w.end < len(target) && target[w.end-1] != '\n' {
				t.Fatalf("seed %d: window [%d,%d) does not start and end at line starts", seed, w.start, w.end)
			}
			fs, _ := eng.Scan(engine.Blob{Path: "f.go", Data: target[w.start:w.end]})
			for _, f := range fs {
				f.Line += w.line - 1
				f.EndLine += w.line - 1
				got = append(got, f)
			}
		}
		savedBytes += len(target) - scanned
		for _, f := range baseFs {
			for _, m := range maps {
				if f.Line >= m.b && f.EndLine < m.b+m.n {
					g := f
					g.Line += m.t - m.b
					g.EndLine += m.t - m.b
					got = append(got, g)
				}
			}
		}
		if w, g := locs(full), locs(got); !slices.Equal(w, g) {
			t.Errorf("seed %d (%d windows, %d parts from the base): findings differ from a full scan\n only in the full scan %v\n only in the plan      %v", seed, len(wins), len(maps), minus(w, g), minus(g, w))
		}
		// The hygiene checks, line-local for this path: CheckLines on the windows
		// plus the base's check findings on the lines taken from it.
		if !hyg.LineLocal("f.go", target) || !hyg.LineLocal("f.go", base) {
			t.Fatalf("seed %d: f.go is not line-local for the hygiene checks", seed)
		}
		fullH := hyg.Check("f.go", target)
		var gotH []finding.Finding
		for _, w := range wins {
			for _, f := range hyg.CheckLines("f.go", target[w.start:w.end]) {
				f.Line += w.line - 1
				f.EndLine += w.line - 1
				gotH = append(gotH, f)
			}
		}
		for _, f := range hyg.Check("f.go", base) {
			for _, m := range maps {
				if f.Line >= m.b && f.EndLine < m.b+m.n {
					g := f
					g.Line += m.t - m.b
					g.EndLine += m.t - m.b
					gotH = append(gotH, g)
					carriedChecks++
				}
			}
		}
		if w, g := locs(fullH), locs(gotH); !slices.Equal(w, g) {
			t.Errorf("seed %d (%d windows, %d parts from the base): hygiene findings differ from a full check\n only in the full check %v\n only in the plan       %v", seed, len(wins), len(maps), minus(w, g), minus(g, w))
		}
	}
	t.Logf("%d of %d targets planned; %d of %d bytes taken from the base; %d hygiene findings carried", planned, cases, savedBytes, total, carriedChecks)
	if carriedChecks == 0 {
		t.Error("no hygiene finding was taken from a base: the test does not exercise the checks' shortcut")
	}
	if planned*10 < int(cases)*3 || savedBytes*4 < total {
		t.Errorf("only %d of %d targets planned, %d of %d bytes not rescanned: the test does not exercise the shortcut", planned, cases, savedBytes, total)
	}
}

// TestDeltaScanProperty generates histories (edits before, inside and after long
// lines, lines longer than the rules' reach, multi-line secrets edited across,
// renames, deltas chained deep) and checks that the history scan reports exactly
// the (fingerprint, commit, path, line, column) set of a scan of every blob whole.
func TestDeltaScanProperty(t *testing.T) {
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	pl, err := pipeline.New(pipeline.Options{Rules: set, Engine: enginetest.Builtin(t), Hygiene: hygiene.New(hygiene.DefaultConfig())})
	if err != nil {
		t.Fatal(err)
	}
	eng := pl.Content()
	class := pl.PathClass()
	single, multi := secretSamples(t)
	deltas, hygieneFound := 0, 0
	seeds := uint64(4)
	if raceOn {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			g := &textGen{r: rand.New(rand.NewPCG(seed, 99)), single: single, multi: multi}
			r := newRepo(t)
			files := map[string][][]byte{} // path -> lines
			split := func(b []byte) [][]byte {
				var out [][]byte
				for len(b) > 0 {
					i := bytes.IndexByte(b, '\n')
					out = append(out, b[:i+1])
					b = b[i+1:]
				}
				return out
			}
			for i := range 3 {
				files[fmt.Sprintf("dir/file%d.go", i)] = split(g.text(150 + g.r.IntN(150)))
			}
			// A configuration file: its checks judge structure, so it is checked whole.
			files["dir/app.yaml"] = split([]byte(strings.Repeat("api:\n  key: \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"\nimages:\n  key: \"Zq8vW2mN4xR7tK1pQ3sL9xY2\"\n  size: 12\n", 150)))
			for fp, fl := range files {
				r.write(fp, string(bytes.Join(fl, nil)))
			}
			r.commit("initial")
			paths := func() []string {
				var ps []string
				for p := range files {
					ps = append(ps, p)
				}
				sort.Strings(ps)
				return ps
			}
			for c := range 30 {
				ps := paths()
				p := ps[g.r.IntN(len(ps))]
				ls := files[p]
				for range 1 + g.r.IntN(3) {
					i := g.r.IntN(len(ls) + 1)
					switch g.r.IntN(6) {
					case 0, 1: // insert lines
						ls = slices.Insert(ls, i, split(g.text(1+g.r.IntN(2)))...)
					case 2: // delete a line
						if len(ls) > 1 && i < len(ls) {
							ls = slices.Delete(ls, i, i+1)
						}
					case 3: // edit a line in place: at its start, its end, or inside
						if i < len(ls) {
							l := ls[i]
							at := g.r.IntN(len(l))
							ls[i] = append(append(append([]byte(nil), l[:at]...), []byte(g.single[g.r.IntN(len(g.single))][:1+g.r.IntN(6)])...), l[at:]...)
						}
					case 4: // edit next to a long line
						for j := range ls {
							if len(ls[j]) > 2000 {
								k := min(j+g.r.IntN(3), len(ls))
								ls = slices.Insert(ls, k, []byte("\t// edited near a long line\n"))
								break
							}
						}
					case 5:
						if len(files) < 5 && g.r.IntN(2) == 0 { // rename
							delete(files, p)
							p = fmt.Sprintf("moved/%d/%s", c, p)
						}
					}
				}
				files[p] = ls
				for _, old := range ps {
					if _, ok := files[old]; !ok {
						r.git("rm", "-q", old)
					}
				}
				for fp, fl := range files {
					r.write(fp, string(bytes.Join(fl, nil)))
				}
				r.commit(fmt.Sprintf("commit %d", c))
			}
			depth := []string{"5", "50", "250"}[seed%3]
			r.git("repack", "-q", "-adf", "--depth="+depth, "--window="+depth)
			caches := map[bool]*mapCache{true: {}, false: {}}
			scan := func(full bool) ([]string, Stats) {
				fs, st, probs := Scan(context.Background(), eng, Options{Repo: r.dir, Workers: 2, FullBlobs: full, Cache: caches[full], PathClass: class})
				if len(probs) > 0 {
					t.Fatal(probs)
				}
				var out []string
				for _, f := range fs {
					out = append(out, fmt.Sprintf("%s %s %s %s %d:%d", f.Kind, f.Fingerprint, f.Commit, f.File, f.Line, f.Column))
					if f.Kind == finding.KindHygiene {
						hygieneFound++
					}
				}
				sort.Strings(out)
				return out, st
			}
			want, _ := scan(true)
			got, st := scan(false)
			if !slices.Equal(want, got) {
				t.Errorf("history scan differs from --full-blobs (%d blobs scanned around changes):\n full  %q\n delta %q", st.DeltaScanned, want, got)
			}
			// What a sweep store would keep: every blob's result, complete.
			if len(caches[true].m) != len(caches[false].m) {
				t.Errorf("cached %d blob results, --full-blobs %d", len(caches[false].m), len(caches[true].m))
			}
			for k, fs := range caches[true].m {
				if w, g := locs(fs), locs(caches[false].m[k]); !slices.Equal(w, g) {
					t.Errorf("cached result of blob %s differs from a full scan's:\n only in the full scan %v\n only in the cache     %v", k, minus(w, g), minus(g, w))
				}
			}
			if len(want) == 0 {
				t.Error("no findings: the generated history plants none")
			}
			t.Logf("%d findings; %d of %d blobs scanned around their changes", len(want), st.DeltaScanned, st.BlobsScanned)
			deltas += st.DeltaScanned
		})
	}
	if deltas == 0 {
		t.Error("no blob was scanned around its changes: the test does not exercise the shortcut")
	}
	if hygieneFound == 0 {
		t.Error("no hygiene finding: the generated histories do not exercise the checks")
	}
}

// TestPlanBaseQuiet: a cut must be quiet in the base too. A spanning rule whose
// keyword need not be inside the match finds, in the base, a match after the cut
// thanks to a keyword before it that the target does not copy; the target has no
// such finding, so the base's must not be carried over.
func TestPlanBaseQuiet(t *testing.T) {
	p, err := rules.Parse("test.toml", []byte(`
[[rule]]
id = "span-keyword"
description = "a value on the line after SECRETVALUE, near a marker keyword"
regex = '''SECRETVALUE\n([A-Z0-9]{20})'''
keywords = ["marker"]
entropy = 0
max_length = 2000
examples = ["marker SECRETVALUE\nQ7X2M9K4T1Z8W3R6Y5P0"]
`))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(&rules.Set{Rules: p.Rules()}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{local: eng}
	filler := strings.Repeat("\tordinary := line(of, code)\n", 20)
	copied := filler + "SECRETVALUE\nQ7X2M9K4T1Z8W3R6Y5P0\n" + strings.Repeat(filler, 200)
	base := []byte("// marker\n" + copied)
	target := []byte("// changed\n" + copied)
	ops := []deltaOp{
		{src: -1, dst: 0, n: 11, lit: target[:11]},
		{src: 10, dst: 11, n: len(copied)},
	}
	full, _ := eng.Scan(engine.Blob{Data: target})
	baseFs, _ := eng.Scan(engine.Blob{Data: base})
	if len(full) != 0 || len(baseFs) != 1 {
		t.Fatalf("full scans: target %d findings, base %d; want 0 and 1", len(full), len(baseFs))
	}
	wins, maps, ok := s.plan(base, target, ops, nil, nil)
	if !ok {
		t.Fatal("not planned: the copy is long enough to take from the base")
	}
	for _, m := range maps {
		if f := baseFs[0]; f.Line >= m.b && f.EndLine < m.b+m.n {
			t.Errorf("the base's finding on line %d is carried over (part %+v, windows %+v): the cut is not quiet in the base", f.Line, m, wins)
		}
	}
}
