// Package sweeptest provides real git repositories and a git smart HTTP server
// (git http-backend behind net/http/cgi) for tests of sweeps.
package sweeptest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
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

	"github.com/tokenward/tokenward/sweep/store"
)

// SecretLine is a line that the built-in rules report (authorization-token-header),
// with a token derived from name.
func SecretLine(name string) string {
	return fmt.Sprintf("curl -H 'Authorization: Token %s' https://api.example.com\n", Token(name))
}

// Token is the 40-hex token of SecretLine(name).
func Token(name string) string { return fmt.Sprintf("%x", sha1.Sum([]byte(name))) }

// Noise is n lines of incompressible text without secrets.
func Noise(seed string, n int) string {
	var b strings.Builder
	h := sha256.Sum256([]byte(seed))
	for i := range n {
		h = sha256.Sum256(h[:])
		fmt.Fprintf(&b, "%d %x\n", i, h[:12])
	}
	return b.String()
}

// NeedGit skips the test when the git CLI is missing.
func NeedGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
}

// Git runs the git CLI in dir with a fixed identity and clock and no user or
// system configuration.
func Git(t testing.TB, dir string, args ...string) string {
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

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// MakeRepo creates the bare repository root/NAME.git with one commit per map
// (path -> content) and returns its path.
func MakeRepo(t testing.TB, root, name string, commits ...map[string]string) string {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	os.MkdirAll(work, 0o755)
	Git(t, work, "init", "-q")
	for i, files := range commits {
		writeFiles(t, work, files)
		Git(t, work, "add", "-A")
		Git(t, work, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("commit %d", i))
	}
	bare := filepath.Join(root, name+".git")
	os.MkdirAll(filepath.Dir(bare), 0o755)
	Git(t, root, "clone", "-q", "--bare", work, bare)
	return bare
}

// AddCommit pushes one commit writing files to the bare repository.
func AddCommit(t testing.TB, bare string, files map[string]string) {
	t.Helper()
	work := filepath.Join(t.TempDir(), "w")
	Git(t, filepath.Dir(bare), "clone", "-q", bare, work)
	writeFiles(t, work, files)
	Git(t, work, "add", "-A")
	Git(t, work, "commit", "-q", "-m", "more")
	Git(t, work, "push", "-q", "origin", "HEAD")
}

// GitServer serves the bare repositories under a root over git smart HTTP.
type GitServer struct {
	*httptest.Server
	PackRequests atomic.Int64 // POST .../git-upload-pack
	Requests     atomic.Int64 // every git request (ref advertisements and packs)

	mu       sync.Mutex
	gate     func(r *http.Request)
	packFor  map[string]int64 // repository path -> upload-pack response bytes
	auth     map[string]string
	fallback http.Handler
}

// NewGitServer starts a server for the repositories under root. Requests that
// are not git's go to fallback when it is set (e.g. a fake API on the same host).
func NewGitServer(t testing.TB, root string, fallback http.Handler) *GitServer {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if out, err := exec.Command("git", "--exec-path").Output(); err == nil {
		backend = filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	}
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git-http-backend not installed")
	}
	gs := &GitServer{packFor: map[string]int64{}, auth: map[string]string{}, fallback: fallback}
	h := &cgi.Handler{
		Path: backend,
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
	}
	gs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isGit := strings.HasSuffix(r.URL.Path, "/info/refs") || strings.HasSuffix(r.URL.Path, "/git-upload-pack")
		if !isGit && gs.fallback != nil {
			gs.fallback.ServeHTTP(w, r)
			return
		}
		gs.Requests.Add(1)
		gs.mu.Lock()
		gate := gs.gate
		repo := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/info/refs"), "/git-upload-pack")
		if u, p, ok := r.BasicAuth(); ok {
			gs.auth[repo] = u + ":" + p
		}
		gs.mu.Unlock()
		if gate != nil {
			gate(r)
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			cw := &countingWriter{ResponseWriter: w}
			h.ServeHTTP(cw, r)
			gs.PackRequests.Add(1)
			gs.mu.Lock()
			gs.packFor[repo] += cw.n
			gs.mu.Unlock()
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(gs.Close)
	return gs
}

// SetGate makes every git request call gate first (it may block).
func (gs *GitServer) SetGate(gate func(r *http.Request)) {
	gs.mu.Lock()
	gs.gate = gate
	gs.mu.Unlock()
}

// PackBytes is how many bytes of packs were served for the repository at path
// (e.g. "/r1.git"); ResetPackBytes starts counting again.
func (gs *GitServer) PackBytes(path string) int64 {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return gs.packFor[path]
}

func (gs *GitServer) ResetPackBytes(path string) {
	gs.mu.Lock()
	gs.packFor[path] = 0
	gs.mu.Unlock()
}

// Auth is the user:password of the last authenticated request for a repository.
func (gs *GitServer) Auth(path string) string {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return gs.auth[path]
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

// Canonical returns the canonical dump of the findings store at path (see
// store.Store.Canonical), for comparing sweeps.
func Canonical(t testing.TB, path string) string {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
