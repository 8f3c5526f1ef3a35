package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The sample module holds one problem per analyzer, and code that is fine.
const sampleGo = `package main

import (
	"fmt"
	"net/http"
)

const ghToken = "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"

func main() {
	token := fmt.Sprint(len(ghToken))
	req, _ := http.NewRequest("GET", "https://api.vendor.io/items?token="+token, nil)
	req.Header.Set("Authorization", "Bearer"+token)
	req.Header.Set("Accept", "application/json")
	fmt.Println(req)
}
`

// TestGoVetVettool builds tokenward-vet and runs it the way users do:
// go vet -vettool=$(which tokenward-vet) ./... on a module in a temp dir.
func TestGoVetVettool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and runs go vet")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	tool := filepath.Join(dir, "tokenward-vet")
	build := exec.Command(goBin, "build", "-o", tool, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	mod := filepath.Join(dir, "sample")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"go.mod":  "module example.com/sample\n\ngo 1.22\n",
		"main.go": sampleGo,
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	vet := func(args ...string) (string, int) {
		cmd := exec.Command(goBin, append([]string{"vet", "-vettool=" + tool}, args...)...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("go vet: %v", err)
		}
		return out.String(), code
	}

	out, code := vet("./...")
	if code == 0 {
		t.Fatalf("go vet exited 0; output:\n%s", out)
	}
	for _, want := range []string{
		`main.go:8:18: hard-coded credential \(github-pat`,
		`main.go:12:35: url-credential-query-dynamic: credential token`,
		`main.go:13:34: auth-header-concatenated: the scheme "Bearer"`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "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") {
		t.Errorf("go vet output shows the token unredacted:\n%s", out)
	}
	if n := strings.Count(out, "main.go:"); n != 3 {
		t.Errorf("%d diagnostics, want 3:\n%s", n, out)
	}

	// One analyzer alone.
	out, code = vet("-authheader", "./...")
	if code == 0 || !strings.Contains(out, "auth-header-concatenated") || strings.Contains(out, "github-pat") {
		t.Errorf("-authheader: exit %d, output:\n%s", code, out)
	}

	// A clean module passes.
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code = vet("./..."); code != 0 {
		t.Errorf("clean module: exit %d, output:\n%s", code, out)
	}
}
