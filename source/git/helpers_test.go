package git

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// fakeEngine finds TOK_ followed by 16+ alphanumerics, like a one-rule engine,
// with exact 1-based line and column.
type fakeEngine struct {
	scans atomic.Int64
	bytes atomic.Int64
}

var tokRe = regexp.MustCompile(`TOK_[A-Za-z0-9]{16,}`)

// Reach and SpanningHits implement Local: the fake's one rule stays on a line.
func (e *fakeEngine) Reach() int                                             { return 0 }
func (e *fakeEngine) SpanningHits(dst [][2]int, _ []byte, _, _ int) [][2]int { return dst }

func (e *fakeEngine) Scan(b engine.Blob) ([]finding.Finding, error) {
	e.scans.Add(1)
	data := b.Data
	if b.Open != nil {
		r, err := b.Open()
		if err != nil {
			return nil, err
		}
		data, err = io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	e.bytes.Add(int64(len(data)))
	var out []finding.Finding
	for _, m := range tokRe.FindAllIndex(data, -1) {
		secret := string(data[m[0]:m[1]])
		line := 1 + bytes.Count(data[:m[0]], []byte{'\n'})
		col := m[0] - (bytes.LastIndexByte(data[:m[0]], '\n') + 1) + 1
		out = append(out, finding.Finding{
			RuleID: "fake-token", Kind: finding.KindSecret, File: b.Path,
			Line: line, Column: col, EndLine: line, EndColumn: col + len(secret) - 1,
			Secret: secret, Redacted: finding.Redact(secret),
			Fingerprint: finding.Fingerprint("fake-token", secret),
		})
	}
	return out, nil
}

// tok makes a distinct token for a name.
func tok(name string) string {
	s := "TOK_" + strings.ToUpper(name) + "0123456789abcdefXYZ"
	return s[:24]
}

// testRepo is a real repository driven by the git CLI.
type testRepo struct {
	t   *testing.T
	dir string
	n   int // commit clock
}

func newRepo(t *testing.T) *testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
	r := &testRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func gitEnv(n int) []string {
	date := fmt.Sprintf("2024-01-01T00:%02d:%02dZ", n/60, n%60)
	return append(os.Environ(),
		"GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Ann Author", "GIT_COMMITTER_EMAIL=ann@example.com", "GIT_COMMITTER_DATE="+date,
		"GIT_CONFIG_GLOBAL="+emptyGitConfig(), "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent")
}

var gitConfigOnce sync.Once
var gitConfigPath string

// emptyGitConfig is an empty global git config for test repositories (not
// /dev/null: git replaces its config file when it writes one).
func emptyGitConfig() string {
	gitConfigOnce.Do(func() {
		gitConfigPath = filepath.Join(os.TempDir(), "tokenward-git-test-empty.gitconfig")
		if err := os.WriteFile(gitConfigPath, nil, 0o644); err != nil {
			panic(err)
		}
	})
	return gitConfigPath
}

func (r *testRepo) git(args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.dir, r.n, args...)
}

func runGit(t *testing.T, dir string, n int, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "gc.auto=0", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(n)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String())
}

func (r *testRepo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit stages everything and commits, returning the commit hash.
func (r *testRepo) commit(msg string) string {
	r.t.Helper()
	r.n++
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// got is a finding reduced to what the tests compare.
type got struct {
	Secret, File, Commit string
	Line, Col            int
}

func (g got) String() string {
	c := g.Commit
	if len(c) > 8 {
		c = c[:8]
	}
	return fmt.Sprintf("%s@%s:%d:%d in %s", g.Secret, g.File, g.Line, g.Col, c)
}

func reduce(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, got{f.Secret, f.File, f.Commit, f.Line, f.Column}.String())
	}
	sort.Strings(out)
	return out
}

func want(gs ...got) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.String())
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func scanT(t *testing.T, opts Options) ([]finding.Finding, Stats, []error) {
	t.Helper()
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	return Scan(context.Background(), &fakeEngine{}, opts)
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkFindings(t *testing.T, fs []finding.Finding, w []string) {
	t.Helper()
	g := reduce(fs)
	if g == nil {
		g = []string{}
	}
	if !sameList(g, w) {
		t.Errorf("findings:\n got  %q\n want %q", g, w)
	}
}

func execGit(dir string, n int, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "gc.auto=0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(n)
	return cmd
}

// scanVia runs a fake engine's Scan as the pipeline's content scanner runs the
// real one: binary blobs are skipped, windows are scanned alone.
func scanVia(scan func(engine.Blob) ([]finding.Finding, error), b source.Blob) source.Outcome {
	if b.Data != nil && isBinary(b.Data) {
		return source.Outcome{Skipped: []source.Skip{{Path: b.Path, Reason: "binary"}}}
	}
	eb := engine.Blob{ID: b.ID, Path: b.Path, Data: b.Data, Open: b.Open}
	if b.Windows == nil {
		fs, err := scan(eb)
		return located(source.Outcome{Findings: fs, Err: err, Bytes: int64(len(b.Data))})
	}
	var out source.Outcome
	for _, w := range b.Windows {
		wb := eb
		wb.Data = b.Data[w.Start:w.End]
		fs, err := scan(wb)
		for i := range fs {
			fs[i].Line += w.Line - 1
			fs[i].EndLine += w.Line - 1
		}
		out.Findings = append(out.Findings, fs...)
		if err != nil {
			out.Err = err
		}
	}
	return located(out)
}

func (e *fakeEngine) ScanBlob(b source.Blob) source.Outcome { return scanVia(e.Scan, b) }

// located drops File from an engine's findings, as the source.Outcome contract says.
func located(o source.Outcome) source.Outcome {
	for i := range o.Findings {
		o.Findings[i].File = ""
	}
	return o
}
