package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	vcs := func(rev, when, dirty string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: dirty}}
	}
	cases := []struct {
		name           string
		ldVer, ldRev   string
		info           *debug.BuildInfo
		ver, rev, when string
		modified       bool
	}{
		{name: "no build info", ver: "dev"},
		{name: "go build -buildvcs=false", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, ver: "dev"},
		{name: "go install @v1.2.3", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, ver: "v1.2.3"},
		{name: "go install @commit", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201231123-e962cea64294"}},
			ver: "v0.0.0-20261201231123-e962cea64294", rev: "e962cea64294"},
		{name: "go install @commit after a tag", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261201231123-e962cea64294"}},
			ver: "v1.2.4-0.20261201231123-e962cea64294", rev: "e962cea64294"},
		{name: "build in a modified checkout", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201231123-e962cea64294+dirty"},
			Settings: vcs("e962cea642948ad0eaa568cb53b81385add8768e", "2026-12-01T23:11:23Z", "true")},
			ver: "v0.0.0-20261201231123-e962cea64294", rev: "e962cea642948ad0eaa568cb53b81385add8768e", when: "2026-12-01T23:11:23Z", modified: true},
		{name: "build at a tag", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"},
			Settings: vcs("e962cea642948ad0eaa568cb53b81385add8768e", "2026-12-01T23:11:23Z", "false")},
			ver: "v1.0.0", rev: "e962cea642948ad0eaa568cb53b81385add8768e", when: "2026-12-01T23:11:23Z"},
		{name: "release ldflags win", ldVer: "v2.0.0", ldRev: "0123456789abcdef", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("e962cea642948ad0eaa568cb53b81385add8768e", "2026-12-01T23:11:23Z", "false")},
			ver: "v2.0.0", rev: "0123456789abcdef", when: "2026-12-01T23:11:23Z"},
		{name: "goreleaser outside a git checkout", ldVer: "v0.0.1-next", ldRev: "none", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, ver: "v0.0.1-next"},
		{name: "a tag that merely looks like a pseudo-version", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0-rc-1"}}, ver: "v1.0.0-rc-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ver, rev, when, dirty := resolveVersion(c.ldVer, c.ldRev, "", c.info)
			if ver != c.ver || rev != c.rev || when != c.when || dirty != c.modified {
				t.Errorf("got %q %q %q %v, want %q %q %q %v", ver, rev, when, dirty, c.ver, c.rev, c.when, c.modified)
			}
		})
	}
}

// TestVersionOutput: `version` and `--version` print the same line, and release
// linker flags set it.
func TestVersionOutput(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tokenward")
	ld := "-X main.version=v9.8.7 -X main.revision=0123456789abcdef0123 -X main.date=2026-01-02T03:04:05Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, b := range []string{binary, bin} {
		var lines []string
		for _, args := range [][]string{{"version"}, {"--version"}} {
			out, err := exec.Command(b, args...).Output()
			if err != nil {
				t.Fatalf("%s %v: %v", b, args, err)
			}
			lines = append(lines, string(out))
		}
		if lines[0] != lines[1] {
			t.Errorf("version %q and --version %q differ", lines[0], lines[1])
		}
		if !strings.HasPrefix(lines[0], "tokenward ") || !strings.Contains(lines[0], " go1.") {
			t.Errorf("version line %q", lines[0])
		}
		if b == bin && !strings.HasPrefix(lines[0], "tokenward v9.8.7 (revision 0123456789ab, 2026-01-02T03:04:05Z) go") {
			t.Errorf("ldflags not honoured: %q", lines[0])
		}
	}
}
