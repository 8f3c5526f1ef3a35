// Command sweepserve serves the bare repositories under a directory over git
// smart HTTP (git http-backend behind net/http/cgi) on a loopback port, with a
// GitHub-style listing of them at /api/v3/orgs/ORG/repos (pushed_at: the latest
// change to a repository's refs), for bench/sweep.sh. It prints its base URL on
// stdout and runs until killed.
//
//	sweepserve DIR
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sweepserve DIR")
		os.Exit(2)
	}
	root, err := filepath.Abs(os.Args[1])
	if err != nil {
		fatal(err)
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		fatal(fmt.Errorf("git --exec-path: %w", err))
	}
	git := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Dir:  root,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	base := "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request) { list(w, r, root, base) })
	mux.Handle("/", git)
	fmt.Println(base)
	os.Stdout.Sync()
	fatal(http.Serve(ln, mux))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "sweepserve:", err)
	os.Exit(2)
}

// list answers like GitHub's "list organization repositories", 100 a page.
func list(w http.ResponseWriter, r *http.Request, root, base string) {
	names, _ := filepath.Glob(filepath.Join(root, "*.git"))
	sort.Strings(names)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	const per = 100
	org := r.PathValue("org")
	var repos []map[string]any
	for i := (page - 1) * per; i < min(page*per, len(names)); i++ {
		name := strings.TrimSuffix(filepath.Base(names[i]), ".git")
		repos = append(repos, map[string]any{
			"full_name": org + "/" + name,
			"clone_url": base + "/" + name + ".git",
			"pushed_at": pushedAt(names[i]).UTC().Format(time.RFC3339Nano),
		})
	}
	if page*per < len(names) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, base, r.URL.Path, page+1, per))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(repos)
}

// pushedAt is the latest modification time under a repository's refs.
func pushedAt(dir string) time.Time {
	var t time.Time
	for _, p := range []string{filepath.Join(dir, "packed-refs"), filepath.Join(dir, "refs")} {
		filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && fi.ModTime().After(t) {
				t = fi.ModTime()
			}
			return nil
		})
	}
	return t
}
