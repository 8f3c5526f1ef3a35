// Command tokenward finds leaked API tokens and bad token hygiene in files, git
// history and configuration, proves which leaks are live, and revokes them.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:           "tokenward",
	Short:         "Find leaked API tokens, check token hygiene, verify and revoke leaks",
	SilenceUsage:  true,
	SilenceErrors: true,
	Long: `tokenward finds leaked API tokens and bad token hygiene in files, git history and
configuration, proves which leaks are live, and can revoke them.

Exit codes: 0 nothing found, 1 findings, 2 usage/config/I/O error or incomplete scan.`,
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit code.
func run(args []string) int {
	restore := guardStderr()
	defer restore()
	registerCompat()
	args, err := rewriteArgs(args) // gitleaks' detect/protect/--source, TruffleHog's git file://
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenward:", err)
		return 2
	}
	rootCmd.SetArgs(args)
	stopProfile := startProfile(args)
	err = rootCmd.Execute()
	stopProfile()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "tokenward:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "tokenward:", err)
	return 2
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error // printed to stderr when set
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func exitCode(code int) error { return &exitError{code: code} }

func init() {
	rootCmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 2, err: fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
}
