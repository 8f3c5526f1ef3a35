package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	gitsrc "github.com/tokenward/tokenward/source/git"
)

var hookFlags struct {
	prePush bool
	force   bool
}

var hookCmd = &cobra.Command{
	Use:   "hook",
	Short: "Install or remove the git hook that scans before each commit or push",
}

var hookInstallCmd = &cobra.Command{
	Use:   "install [REPO]",
	Short: "Install a pre-commit (or --pre-push) hook running tokenward",
	Long: `Install a git hook in REPO (default: the current repository; core.hooksPath is
honoured). The pre-commit hook runs ` + "`tokenward git --staged`" + `; the pre-push hook scans
the commits being pushed (` + "`tokenward git --range`" + `). An existing hook is kept: it is
renamed to <hook>` + chainSuffix + ` and run first; if it fails, the commit or push stops.
Skip the hook once with ` + "`git commit --no-verify`" + `.`,
	Args: cobra.MaximumNArgs(1),
	RunE: runHookInstall,
}

var hookUninstallCmd = &cobra.Command{
	Use:   "uninstall [REPO]",
	Short: "Remove the tokenward hook, restoring the hook it chained",
	Args:  cobra.MaximumNArgs(1),
	RunE:  runHookUninstall,
}

func init() {
	for _, c := range []*cobra.Command{hookInstallCmd, hookUninstallCmd} {
		c.Flags().BoolVar(&hookFlags.prePush, "pre-push", false, "the pre-push hook instead of pre-commit")
	}
	hookInstallCmd.Flags().BoolVar(&hookFlags.force, "force", false, "rewrite the hook even if tokenward's hook is already installed")
	hookCmd.AddCommand(hookInstallCmd, hookUninstallCmd)
	rootCmd.AddCommand(hookCmd)
}

const (
	hookMarker  = "# tokenward-hook v1"
	chainSuffix = ".pre-tokenward"
)

func hookTarget(args []string) (dir, name string, err error) {
	repo := "."
	if len(args) == 1 {
		repo = args[0]
	}
	info, err := gitsrc.Describe(repo)
	if err != nil {
		return "", "", usageError(err)
	}
	name = "pre-commit"
	if hookFlags.prePush {
		name = "pre-push"
	}
	return info.HooksDir, name, nil
}

func runHookInstall(cmd *cobra.Command, args []string) error {
	dir, name, err := hookTarget(args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError(fmt.Errorf("creating the hooks directory: %w", err))
	}
	path := filepath.Join(dir, name)
	chained := path + chainSuffix
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return usageError(fmt.Errorf("reading %s: %w", path, err))
	case strings.Contains(string(old), hookMarker):
		if !hookFlags.force {
			fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: %s already runs tokenward (use --force to rewrite it)\n", path)
			return nil
		}
	default:
		if _, err := os.Stat(chained); err == nil {
			return usageError(fmt.Errorf("%s exists and %s already holds an earlier hook; merge them by hand or remove one, then run this again", path, chained))
		}
		if err := os.Rename(path, chained); err != nil {
			return usageError(fmt.Errorf("keeping the existing hook: %w", err))
		}
		if err := os.Chmod(chained, 0o755); err != nil {
			return usageError(err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: kept the existing hook as %s; it runs first\n", chained)
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		exe = "tokenward"
	}
	var extra []string
	if common.baseline != "" {
		// Hooks run at the top of the work tree: a relative path stays relative
		// to it, so the hook keeps working in other clones.
		if _, err := os.Stat(common.baseline); err != nil {
			return usageError(fmt.Errorf("--baseline: %w (create it with tokenward baseline create)", err))
		}
		extra = append(extra, "--baseline", common.baseline)
	}
	if common.config != "" {
		// Named on the command line, the file is trusted by the hook as by any run.
		if _, err := os.Stat(common.config); err != nil {
			return usageError(fmt.Errorf("--config: %w", err))
		}
		extra = append(extra, "--config", common.config)
	}
	if common.trustRepo {
		extra = append(extra, "--trust-repo-config")
	}
	script := hookScript(name, exe, extra...)
	if err := os.WriteFile(path+".tmp", []byte(script), 0o755); err != nil {
		return usageError(fmt.Errorf("writing %s: %w", path, err))
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return usageError(fmt.Errorf("writing %s: %w", path, err))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: installed %s\n", path)
	return nil
}

func runHookUninstall(cmd *cobra.Command, args []string) error {
	dir, name, err := hookTarget(args)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), hookMarker) {
		return usageError(fmt.Errorf("%s is not a tokenward hook; nothing removed", path))
	}
	if err := os.Remove(path); err != nil {
		return usageError(err)
	}
	if _, err := os.Stat(path + chainSuffix); err == nil {
		if err := os.Rename(path+chainSuffix, path); err != nil {
			return usageError(err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: removed the tokenward hook and restored %s\n", path)
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "tokenward: removed %s\n", path)
	return nil
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// hookScript writes the hook; extra are arguments added to every tokenward run.
func hookScript(name, exe string, extra ...string) string {
	var args string
	for _, a := range extra {
		args += " " + shellQuote(a)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/sh
%s
# Installed by `+"`tokenward hook install`"+`. An earlier hook, if there was one, is
# %s%s next to this file and runs first. Skip once with --no-verify.
TOKENWARD=${TOKENWARD:-%s}
if ! command -v "$TOKENWARD" >/dev/null 2>&1; then
	TOKENWARD=tokenward
	if ! command -v "$TOKENWARD" >/dev/null 2>&1; then
		echo "tokenward hook: tokenward not found; install it or set TOKENWARD (skip once with --no-verify)" >&2
		exit 1
	fi
fi
prev="$(dirname "$0")/%s%s"
`, hookMarker, name, chainSuffix, shellQuote(exe), name, chainSuffix)
	if name == "pre-commit" {
		b.WriteString(`if [ -x "$prev" ]; then
	"$prev" "$@" || exit $?
fi
exec "$TOKENWARD" git --staged` + args + `
`)
		return b.String()
	}
	// pre-push: stdin has "<local ref> <local sha> <remote ref> <remote sha>" lines.
	b.WriteString(`input=$(cat)
if [ -x "$prev" ]; then
	printf '%s\n' "$input" | "$prev" "$@" || exit $?
fi
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
	[ -n "$local_sha" ] || continue
	case "$local_sha" in *[!0]*) ;; *) continue ;; esac # a deletion
	range=
	case "$remote_sha" in
	*[!0]*)
		if git cat-file -e "$remote_sha^{commit}" 2>/dev/null; then
			range="$remote_sha..$local_sha"
		fi ;;
	esac
	if [ -z "$range" ]; then
		# A new branch: from the oldest commit that no remote-tracking ref has.
		first=$(git rev-list "$local_sha" --not --remotes | tail -n 1)
		[ -n "$first" ] || continue
		if git rev-parse -q --verify "$first^" >/dev/null; then
			range="$first^..$local_sha"
		fi
	fi
	if [ -n "$range" ]; then
		"$TOKENWARD" git --range "$range"` + args + ` || status=$?
	else
		"$TOKENWARD" git` + args + ` || status=$?
	fi
done <<EOF
$input
EOF
exit $status
`)
	return b.String()
}
