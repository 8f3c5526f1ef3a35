package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Release builds set these with -ldflags "-X main.version=v1.2.3 -X main.revision=…
// -X main.date=…" (see .goreleaser.yaml). When they are empty, the Go build
// information fills them: `go install …@v1.2.3` records the module version, and a
// build inside a git checkout records the VCS revision, time and whether the tree
// was modified.
var (
	version  string
	revision string
	date     string
	modified bool
)

func init() {
	info, _ := debug.ReadBuildInfo()
	version, revision, date, modified = resolveVersion(version, revision, date, info)
	rootCmd.Version = version
	rootCmd.SetVersionTemplate("{{with .Annotations}}{{.versionLine}}{{end}}\n")
	if rootCmd.Annotations == nil {
		rootCmd.Annotations = map[string]string{}
	}
	rootCmd.Annotations["versionLine"] = versionLine()
	// --version on the root only (cobra would otherwise take -v, which is --verbose).
	rootCmd.Flags().Bool("version", false, "print the version and exit")
	rootCmd.AddCommand(versionCmd)
}

var versionCmd = &cobra.Command{
	Use:   "version",
	Short: "Print the tokenward version, VCS revision and Go version",
	Args:  cobra.NoArgs,
	Run: func(cmd *cobra.Command, args []string) {
		fmt.Fprintln(cmd.OutOrStdout(), versionLine())
	},
}

// resolveVersion fills what the linker flags left empty from the build information.
// A revision given by the linker flags is the release's: the state of the tree
// it was built in says nothing about it.
func resolveVersion(ver, rev, when string, info *debug.BuildInfo) (string, string, string, bool) {
	dirty := false
	// What release tooling sets outside a git checkout (goreleaser: "none", the zero time).
	if rev == "none" || rev == "unknown" {
		rev = ""
	}
	if strings.HasPrefix(when, "0001-01-01") {
		when = ""
	}
	fromFlags := rev != ""
	if info != nil {
		if ver == "" {
			if v := info.Main.Version; v != "" && v != "(devel)" {
				ver = v
			}
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				if when == "" {
					when = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true" && !fromFlags
			}
		}
		if rev == "" {
			rev = pseudoRevision(info.Main.Version)
		}
	}
	if ver == "" {
		ver = "dev"
	}
	ver = strings.TrimSuffix(ver, "+dirty")
	return ver, rev, when, dirty
}

// pseudoRevision returns the commit abbreviation at the end of a Go pseudo-version
// (v0.0.0-20261201230800-8b79ade12345, v1.2.4-0.20261201230800-8b79ade12345),
// which is all `go install …@COMMIT` records: module zips carry no vcs.* settings.
func pseudoRevision(v string) string {
	parts := strings.Split(strings.TrimSuffix(v, "+dirty"), "-")
	if len(parts) < 3 {
		return ""
	}
	rev, stamp := parts[len(parts)-1], parts[len(parts)-2]
	if i := strings.LastIndexByte(stamp, '.'); i >= 0 {
		stamp = stamp[i+1:]
	}
	if len(rev) != 12 || strings.Trim(rev, "0123456789abcdef") != "" ||
		len(stamp) != 14 || strings.Trim(stamp, "0123456789") != "" {
		return ""
	}
	return rev
}

// versionLine is what `tokenward version` and `--version` print, e.g.
// "tokenward v1.2.3 (revision 8b79ade12345, 2026-12-01T23:08:00Z) go1.26.8 linux/amd64".
func versionLine() string {
	var meta []string
	if revision != "" {
		r := revision
		if len(r) > 12 {
			r = r[:12]
		}
		if modified {
			r += ", modified"
		}
		meta = append(meta, "revision "+r)
	}
	if date != "" {
		meta = append(meta, date)
	}
	line := "tokenward " + version
	if len(meta) > 0 {
		line += " (" + strings.Join(meta, ", ") + ")"
	}
	return line + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
