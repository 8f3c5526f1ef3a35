package release

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerignore reads .dockerignore. It accepts only the pattern forms its matcher
// implements (names and paths with * and ?, and a leading **/), so that a pattern
// Docker would read differently fails here instead of being misjudged.
func dockerignore(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pats []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		rest := strings.TrimPrefix(p, "**/")
		if strings.HasPrefix(p, "!") || strings.HasPrefix(p, "/") || strings.Contains(rest, "**") || strings.ContainsAny(p, "[\\") {
			t.Fatalf(".dockerignore:%d: %q: this test's matcher implements names, paths, * and ? and a leading **/ only; extend ignored() to use it", n, p)
		}
		pats = append(pats, path.Clean(p))
	}
	return pats
}

// ignored tells whether the slash-separated path rel (relative to the root) is
// excluded: a pattern matches the path itself or one of its parent directories.
func ignored(pats []string, rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range pats {
		anyDepth := strings.HasPrefix(p, "**/")
		p = strings.TrimPrefix(p, "**/")
		depth := strings.Count(p, "/") + 1
		for start := 0; start < len(parts); start++ {
			if start > 0 && !anyDepth {
				break
			}
			for end := start + depth; end <= len(parts); end++ {
				if end-start != depth {
					continue
				}
				if ok, _ := path.Match(p, strings.Join(parts[start:end], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

func TestDockerignoreMatcher(t *testing.T) {
	pats := []string{".git", "bench", "**/testdata", "**/*_test.go", "*.db", "docs/*.png"}
	cases := map[string]bool{
		".git": true, ".git/config": true, "bench/run.sh": true, "engine/testdata/x": true, "testdata/a": true,
		"engine/engine_test.go": true, "x_test.go": true, "store.db": true, "sweep/store.db": false,
		"docs/a.png": true, "docs/a.md": false, "engine/engine.go": false, "go.mod": false, "benchmark/x": false,
	}
	for rel, want := range cases {
		if got := ignored(pats, rel); got != want {
			t.Errorf("ignored(%q) = %v, want %v", rel, got, want)
		}
	}
}

// TestDockerBuildContext stands in for `docker build .`, which needs a Docker
// engine that CI does not have. It checks the Dockerfile's shape (multi-stage,
// CGO_ENABLED=0, a distroless final stage, a non-root user) and that the build
// context .dockerignore leaves holds every file `go build ./cmd/tokenward` reads
// for linux (Go files, embedded files, assembly, go.mod, go.sum), as `go list`
// names them. (Compiling a copy of the context would say the same, at the cost of
// a cold CGO_ENABLED=0 -trimpath build of every dependency.)
func TestDockerBuildContext(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	froms := regexp.MustCompile(`(?m)^FROM\s+(.*)$`).FindAllStringSubmatch(df, -1)
	if len(froms) != 2 || !strings.HasSuffix(froms[0][1], " AS build") || !strings.HasPrefix(froms[1][1], "gcr.io/distroless/static") {
		t.Errorf("Dockerfile stages %q: want a build stage and a distroless static final stage", froms)
	}
	final := df[strings.LastIndex(df, "\nFROM "):]
	if !regexp.MustCompile(`(?m)^USER nonroot`).MatchString(final) {
		t.Error("the final stage does not switch to a non-root USER")
	}
	m := regexp.MustCompile(`(?s)CGO_ENABLED=0 [^\n]*\\\n\s*go build [^\n]*-ldflags "[^"]*-X main\.version=\$\{VERSION\}[^"]*" \\\n\s*-o /out/tokenward (\./cmd/tokenward)\n`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("cannot find the Dockerfile's static build: CGO_ENABLED=0 … go build … -ldflags \"… -X main.version=${VERSION}\" -o /out/tokenward ./cmd/tokenward (update this test with the Dockerfile)")
	}

	pats := dockerignore(t)
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .SFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .SysoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		m[1])
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := append(strings.Fields(string(out)), filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	if len(needed) < 20 {
		t.Fatalf("go list named %d files; expected the tokenward sources", len(needed))
	}
	for _, f := range needed {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		if rel = filepath.ToSlash(rel); ignored(pats, rel) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", rel)
		}
	}
	for _, gone := range []string{".git", "bench/compare.sh", "cmd/tokenward/cli_test.go", "engine/testdata"} {
		if !ignored(pats, gone) {
			t.Errorf("%s is in the build context; it is not needed", gone)
		}
	}
}
