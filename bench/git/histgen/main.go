// Command histgen writes a git fast-import stream of a history built from
// successive snapshots of a source tree (directories given in order, e.g. module
// versions from the module cache), for the history benchmarks (bench/git/history.sh).
//
// With -steps N (per-file mode), each file a snapshot changes is committed on its
// own, its change split into up to N commits (the changed middle of the file
// replaced a part at a time), as a long history of small edits has them. With
// -steps 0, each snapshot is one commit, followed by -between small commits to a
// file of its own (a project that commits its vendor tree).
//
// Tokens (examples from tokenward's built-in rules, public in its repository) are
// planted every -plant snapshots after a long line in the largest Go file, and
// removed in the next commit; at the end a token is renamed and deleted with its
// file, one is left on an unmerged branch, one is added by a merge's conflict
// resolution and one is in a commit message.
//
//	histgen -steps 8 DIR... | git -C REPO fast-import --quiet
//	histgen -synth 25000 APPDIR MODULE@VERSION... | git -C REPO fast-import --quiet
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var tokens = []string{
	"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",
	"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",
	"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",
	"xoxb-11431453428-98314036948-1XjVmnDu5tuVlsguCWkam3lk",
	"xoxb-4858575710-72428247471-15mFBb8It7Ki0V1F1NtaoPIX",
	"xoxb-7391618910-46780648544-kBCbTFHe35p1zNCntGxfTqmb",
	"AKIAHGSNHTUMTLKOEQCN",
	"AKIAN7JQJLQ5R6EFB3IK",
	"glpat-QPMlaPnoYmWVcJhFaylu",
	"glpat-qGqEs0Pmqs8u5NGa_ShS",
}

// lineFor is a line holding token t in a shape the rules (tokenward's and
// gitleaks') expect.
func lineFor(t string) string {
	switch {
	case strings.HasPrefix(t, "ghp_"):
		return "\t// GITHUB_TOKEN=" + t + "\n"
	case strings.HasPrefix(t, "xoxb-"):
		return "\t// SLACK_BOT_TOKEN=" + t + "\n"
	case strings.HasPrefix(t, "AKIA"):
		return "\t// aws_access_key_id: " + t + "\n"
	default:
		return "\t// GITLAB_TOKEN=\"" + t + "\"\n"
	}
}

type gen struct {
	w     *bufio.Writer
	mark  int
	tick  int64
	state map[string][]byte
	last  int // mark of main's last commit
}

func (g *gen) commit(branch, msg string, from, merge int, files map[string][]byte, deletes []string) int {
	g.mark++
	g.tick += 600
	fmt.Fprintf(g.w, "commit %s\nmark :%d\n", branch, g.mark)
	fmt.Fprintf(g.w, "author Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n", g.tick, g.tick)
	fmt.Fprintf(g.w, "data %d\n%s\n", len(msg), msg)
	if from > 0 {
		fmt.Fprintf(g.w, "from :%d\n", from)
	}
	if merge > 0 {
		fmt.Fprintf(g.w, "merge :%d\n", merge)
	}
	for _, d := range deletes {
		fmt.Fprintf(g.w, "D %s\n", d)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(g.w, "M 100644 inline %s\ndata %d\n", p, len(files[p]))
		g.w.Write(files[p])
		g.w.WriteByte('\n')
	}
	g.w.WriteByte('\n')
	if branch == "refs/heads/main" {
		g.last = g.mark
	}
	return g.mark
}

func (g *gen) main(msg string, files map[string][]byte, deletes []string) {
	g.commit("refs/heads/main", msg, g.last, 0, files, deletes)
	for p, b := range files {
		g.state[p] = b
	}
	for _, d := range deletes {
		delete(g.state, d)
	}
}

func readTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out, err
}

func lines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

// steps returns up to n versions leading from old to new: the changed middle
// (between the common prefix and suffix of lines) replaced a part at a time.
func steps(old, new []byte, n int) [][]byte {
	o, w := lines(old), lines(new)
	pre := 0
	for pre < len(o) && pre < len(w) && bytes.Equal(o[pre], w[pre]) {
		pre++
	}
	suf := 0
	for suf < len(o)-pre && suf < len(w)-pre && bytes.Equal(o[len(o)-1-suf], w[len(w)-1-suf]) {
		suf++
	}
	om, wm := o[pre:len(o)-suf], w[pre:len(w)-suf]
	k := min(n, max(1, (len(om)+len(wm))/30))
	var out [][]byte
	for i := 1; i < k; i++ {
		var b bytes.Buffer
		for _, l := range o[:pre] {
			b.Write(l)
		}
		for _, l := range wm[:i*len(wm)/k] {
			b.Write(l)
		}
		for _, l := range om[i*len(om)/k:] {
			b.Write(l)
		}
		for _, l := range o[len(o)-suf:] {
			b.Write(l)
		}
		out = append(out, b.Bytes())
	}
	return append(out, new)
}

func (g *gen) largestGo() string {
	best, size := "", -1
	for p, b := range g.state {
		if strings.HasSuffix(p, ".go") && (len(b) > size || len(b) == size && p < best) {
			best, size = p, len(b)
		}
	}
	return best
}

// plant puts token k after a long line in the largest Go file, then removes it.
func (g *gen) plant(k int) {
	p := g.largestGo()
	if p == "" {
		return
	}
	orig := g.state[p]
	ls := lines(orig)
	at := len(ls)/3 + k
	long := "\tvar blob = \"" + strings.Repeat("x", 3000+700*k) + "\"\n"
	var b bytes.Buffer
	for i, l := range ls {
		b.Write(l)
		if i == at {
			b.WriteString(long)
			b.WriteString(lineFor(tokens[k]))
		}
	}
	g.main(fmt.Sprintf("debug: temporary credentials %d", k), map[string][]byte{p: b.Bytes()}, nil)
	g.main(fmt.Sprintf("remove temporary credentials %d", k), map[string][]byte{p: orig}, nil)
}

func main() {
	nsteps := flag.Int("steps", 8, "commits per changed file per snapshot (0: one commit per snapshot)")
	between := flag.Int("between", 0, "with -steps 0: small commits after each snapshot")
	every := flag.Int("plant", 12, "plant a token every this many snapshots (vendor bumps with -synth; at most 6)")
	synth := flag.Int("synth", 0, "write a synthetic vendor-heavy history of this many commits (see synth.go): app DIR, then MODULE@VERSION DIRs")
	apps := flag.Int("apps", 1, "with -synth: how many of the directories are the app's code")
	ngen := flag.Int("gen", 8, "with -synth: generated files")
	gensize := flag.Int("gensize", 3<<20, "with -synth: mean size of a generated file")
	bump := flag.Int("bump", 60, "with -synth: a vendor bump every this many commits")
	flag.Parse()
	g := &gen{w: bufio.NewWriterSize(os.Stdout, 1<<20), tick: 1600000000, state: map[string][]byte{}}
	planted := 0
	if *synth > 0 {
		if err := g.synth(*synth, flag.Args(), *apps, *ngen, *gensize, *bump, *every); err != nil {
			log.Fatal(err)
		}
	}
	for i, dir := range flag.Args() {
		if *synth > 0 {
			break
		}
		next, err := readTree(dir)
		if err != nil {
			log.Fatalf("reading %s: %v", dir, err)
		}
		name := filepath.Base(dir)
		var gone []string
		for p := range g.state {
			if _, ok := next[p]; !ok {
				gone = append(gone, p)
			}
		}
		sort.Strings(gone)
		var changed []string
		for p, b := range next {
			if !bytes.Equal(g.state[p], b) {
				changed = append(changed, p)
			}
		}
		sort.Strings(changed)
		if *nsteps == 0 {
			files := map[string][]byte{}
			for _, p := range changed {
				files[p] = next[p]
			}
			g.main("import "+name, files, gone)
			for n := 1; n <= *between; n++ {
				notes := append(append([]byte(nil), g.state["NOTES.md"]...), fmt.Sprintf("- %s: change %d\n", name, n)...)
				g.main(fmt.Sprintf("work after %s (%d)", name, n), map[string][]byte{"NOTES.md": notes}, nil)
			}
		} else {
			if len(gone) > 0 {
				g.main(fmt.Sprintf("%s: remove %d files", name, len(gone)), nil, gone)
			}
			for _, p := range changed {
				old, ok := g.state[p]
				if !ok {
					g.main(fmt.Sprintf("%s: add %s", name, p), map[string][]byte{p: next[p]}, nil)
					continue
				}
				vs := steps(old, next[p], *nsteps)
				for j, v := range vs {
					g.main(fmt.Sprintf("%s: %s (%d/%d)", name, p, j+1, len(vs)), map[string][]byte{p: v}, nil)
				}
			}
		}
		if *every > 0 && i%*every == *every/2 && planted < 6 {
			g.plant(planted)
			planted++
		}
	}
	// A token renamed with its file and then deleted.
	g.main("deploy settings", map[string][]byte{"deploy.env": []byte(lineFor(tokens[6]))}, nil)
	g.main("rename", map[string][]byte{"config.env": []byte(lineFor(tokens[6]))}, []string{"deploy.env"})
	g.main("drop settings", nil, []string{"config.env"})
	base := g.last
	// An unmerged branch.
	g.commit("refs/heads/experiment", "experiment", base, 0, map[string][]byte{"notes.txt": []byte(lineFor(tokens[7]))}, nil)
	// A merge whose conflict resolution adds a token.
	feature := g.commit("refs/heads/feature", "feature setting", base, 0, map[string][]byte{"settings.txt": []byte("setting = feature\n")}, nil)
	g.main("main setting", map[string][]byte{"settings.txt": []byte("setting = main\n")}, nil)
	g.commit("refs/heads/main", "Merge branch 'feature'", g.last, feature, map[string][]byte{"settings.txt": []byte(lineFor(tokens[8]))}, nil)
	// A token in a commit message.
	g.commit("refs/heads/main", "rotate token "+tokens[9], g.last, 0, nil, nil)
	if err := g.w.Flush(); err != nil {
		log.Fatal(err)
	}
}
