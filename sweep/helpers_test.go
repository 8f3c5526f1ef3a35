package sweep

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/scanner"
	gitsrc "github.com/tokenward/tokenward/scanner/git"
	"github.com/tokenward/tokenward/sweep/store"
)

// secretLine is a line the built-in rules report (authorization-token-header),
// distinct per name.
func secretLine(name string) string {
	return fmt.Sprintf("curl -H 'Authorization: Token %x' https://api.example.com\n", sha1.Sum([]byte(name)))
}

var (
	engOnce sync.Once
	engSet  *rules.Set
	engine  *scanner.Engine
	engErr  error
)

func testEngine(t *testing.T) (*rules.Set, *scanner.Engine) {
	t.Helper()
	engOnce.Do(func() {
		if engSet, engErr = rules.Builtin(); engErr == nil {
			engine, engErr = scanner.New(engSet, scanner.Options{})
		}
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return engSet, engine
}

func gitAvailable(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
}

// git runs the git CLI in dir with a fixed identity and clock.
func gitc(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "gc.auto=0", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cfg := filepath.Join(t.TempDir(), "gitconfig")
	os.WriteFile(cfg, nil, 0o644)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s (in %s): %v\n%s%s", strings.Join(args, " "), dir, err, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String())
}

// makeRepo creates a bare repository root/name.git with commits: each commit
// writes the given files (path -> content).
func makeRepo(t *testing.T, root, name string, commits ...map[string]string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	os.MkdirAll(work, 0o755)
	gitc(t, work, "init", "-q")
	for i, files := range commits {
		for p, c := range files {
			full := filepath.Join(work, p)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		gitc(t, work, "add", "-A")
		gitc(t, work, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("commit %d", i))
	}
	bare := filepath.Join(root, name+".git")
	os.MkdirAll(filepath.Dir(bare), 0o755)
	gitc(t, root, "clone", "-q", "--bare", work, bare)
	gitc(t, bare, "config", "http.receivepack", "true")
	return bare
}

// addCommit pushes a commit writing files to the bare repository.
func addCommit(t *testing.T, bare string, files map[string]string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	gitc(t, filepath.Dir(bare), "clone", "-q", bare, work)
	for p, c := range files {
		full := filepath.Join(work, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(c), 0o644)
	}
	gitc(t, work, "add", "-A")
	gitc(t, work, "commit", "-q", "-m", "more")
	gitc(t, work, "push", "-q", "origin", "HEAD")
}

// gitServer serves the bare repositories under root over git smart HTTP, with
// git http-backend behind net/http/cgi.
type gitServer struct {
	*httptest.Server
	packRequests  atomic.Int64 // POST git-upload-pack
	packBytes     atomic.Int64 // bytes of their responses
	mu            sync.Mutex
	gate          func(path string) // called before serving each request
	uploadPackFor map[string]int64  // repo path -> upload-pack response bytes
}

func newGitServer(t *testing.T, root string) *gitServer {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if out, err := exec.Command("git", "--exec-path").Output(); err == nil {
		backend = filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	}
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not installed")
	}
	gs := &gitServer{uploadPackFor: map[string]int64{}}
	h := &cgi.Handler{
		Path: backend,
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	gs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs.mu.Lock()
		gate := gs.gate
		gs.mu.Unlock()
		if gate != nil {
			gate(r.URL.Path)
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			cw := &countingWriter{ResponseWriter: w}
			h.ServeHTTP(cw, r)
			gs.packRequests.Add(1)
			gs.packBytes.Add(cw.n)
			gs.mu.Lock()
			gs.uploadPackFor[strings.TrimSuffix(r.URL.Path, "/git-upload-pack")] += cw.n
			gs.mu.Unlock()
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(gs.Close)
	return gs
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// testConfig is a sweep configuration over a fresh store.
func testConfig(t *testing.T, dbPath, cache string) Config {
	t.Helper()
	set, eng := testEngine(t)
	st, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Config{
		Store: st, Engine: eng, PathClass: gitsrc.PathClassFor(set), ScanKey: ScanKey(set, ScanOptions{}, "test"),
		CacheDir: cache, Workers: 2, Parallel: 2,
	}
}

func run(t *testing.T, cfg Config, ts []Target) Summary {
	t.Helper()
	sum, err := Run(context.Background(), cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func canonical(t *testing.T, st *store.Store) string {
	t.Helper()
	c, err := st.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
