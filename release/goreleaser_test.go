package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestGoreleaserConfig checks what the release must contain, then runs the pinned
// goreleaser's own validation (.ci/run installs it).
func TestGoreleaserConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int `yaml:"version"`
		Builds  []struct {
			ID      string   `yaml:"id"`
			Main    string   `yaml:"main"`
			Env     []string `yaml:"env"`
			Ldflags []string `yaml:"ldflags"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
		} `yaml:"builds"`
		Checksum struct {
			Algorithm string `yaml:"algorithm"`
		} `yaml:"checksum"`
		SBOMs []struct {
			Artifacts string `yaml:"artifacts"`
		} `yaml:"sboms"`
		Dockers []struct {
			Dockerfile string   `yaml:"dockerfile"`
			Platforms  []string `yaml:"platforms"`
		} `yaml:"dockers_v2"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if cfg.Version != 2 {
		t.Errorf("version %d: the configuration is for goreleaser v2", cfg.Version)
	}
	var main bool
	for _, b := range cfg.Builds {
		slices.Sort(b.Goos)
		slices.Sort(b.Goarch)
		if !slices.Equal(b.Goos, []string{"darwin", "linux", "windows"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
			t.Errorf("build %s: targets %v × %v, want darwin, linux, windows × amd64, arm64", b.ID, b.Goos, b.Goarch)
		}
		if !slices.Contains(b.Env, "CGO_ENABLED=0") {
			t.Errorf("build %s is not static (CGO_ENABLED=0)", b.ID)
		}
		if b.Main != "./cmd/tokenward" {
			continue
		}
		main = true
		// The linker flags must name variables that cmd/tokenward declares.
		src, err := os.ReadFile(filepath.Join(root, "cmd/tokenward/version.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`-X main\.(\w+)=`).FindAllStringSubmatch(strings.Join(b.Ldflags, " "), -1) {
			if !regexp.MustCompile(`(?m)^\s+` + m[1] + `\s+string$`).Match(src) {
				t.Errorf("ldflags set main.%s, which cmd/tokenward/version.go does not declare as a string variable", m[1])
			}
		}
	}
	if !main {
		t.Error("no build of ./cmd/tokenward")
	}
	if cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q, want sha256", cfg.Checksum.Algorithm)
	}
	if len(cfg.SBOMs) == 0 {
		t.Error("no SBOM")
	}
	if len(cfg.Dockers) != 1 || !slices.Equal(cfg.Dockers[0].Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("container images %+v: want one for linux/amd64 and linux/arm64", cfg.Dockers)
	} else if _, err := os.Stat(filepath.Join(root, cfg.Dockers[0].Dockerfile)); err != nil {
		t.Errorf("the image's Dockerfile: %v", err)
	}

	bin := need(t, "goreleaser", "go install github.com/goreleaser/goreleaser/v2@v2.15.1")
	cmd := exec.Command(bin, "check")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}
