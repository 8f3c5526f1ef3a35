package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Names that gitleaks and TruffleHog users type. Where the meaning is the same,
// tokenward accepts them (hidden from --help); where it is not, it refuses them
// with a one-line "tokenward calls this …" hint instead of ignoring them.
// docs/migrating.md has the full map.

// compatFlag is one foreign flag.
type compatFlag struct {
	name, shorthand string
	from            string // gitleaks, TruffleHog
	// target: the tokenward flag it is another name for (same value, same meaning).
	target string
	// needs + set: a translation; registered where flag `needs` exists.
	needs  string
	isBool bool
	set    func(cmd *cobra.Command, v string) error
	// hint: not the same; using the flag is an error that says what to do.
	hint string
	// noop: what tokenward does anyway (accepted, nothing to do).
	noop bool
}

var compatFlags = []compatFlag{
	// Same meaning, another name.
	{name: "report-path", shorthand: "r", from: "gitleaks", target: "output"},
	{name: "report-format", from: "gitleaks", target: "format"},
	{name: "only-verified", from: "TruffleHog", target: "only-live"},
	{name: "concurrency", from: "TruffleHog", target: "workers"},
	// Same meaning, value translated.
	{name: "max-target-megabytes", from: "gitleaks", needs: "max-file-size", set: func(cmd *cobra.Command, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("--max-target-megabytes %q: want a number of megabytes", v)
		}
		if n == 0 {
			return nil // gitleaks: 0 = no limit, tokenward's default
		}
		return cmd.Flags().Set("max-file-size", strconv.Itoa(n)+"MB")
	}},
	{name: "json", from: "TruffleHog", needs: "format", isBool: true, set: func(cmd *cobra.Command, v string) error {
		if v == "true" {
			return cmd.Flags().Set("format", "jsonl") // TruffleHog --json writes one object per line
		}
		return nil
	}},
	{name: "github-actions", from: "TruffleHog", needs: "format", isBool: true, set: func(cmd *cobra.Command, v string) error {
		if v == "true" {
			return cmd.Flags().Set("format", "github")
		}
		return nil
	}},
	{name: "fail", from: "TruffleHog", needs: "exit-code", isBool: true, set: func(cmd *cobra.Command, v string) error {
		if v == "true" && !cmd.Flags().Changed("exit-code") {
			return cmd.Flags().Set("exit-code", "183") // TruffleHog's status for "results found"
		}
		return nil
	}},
	{name: "since-commit", from: "TruffleHog", needs: "range", set: func(cmd *cobra.Command, v string) error {
		return cmd.Flags().Set("range", v+"..HEAD")
	}},
	{name: "log-opts", from: "gitleaks", needs: "range", set: func(cmd *cobra.Command, v string) error {
		v = strings.TrimSpace(v)
		if regexp.MustCompile(`^[^\s-][^\s]*\.\.\.?[^\s]+$`).MatchString(v) {
			return cmd.Flags().Set("range", v)
		}
		return fmt.Errorf("--log-opts %q: tokenward calls this --range BASE..HEAD (it runs no git log, so other git log options have no equivalent)", v)
	}},
	// What tokenward does anyway.
	{name: "redact", from: "gitleaks", noop: true},                              // secrets are always redacted (--show-secrets to print them)
	{name: "no-banner", from: "gitleaks", isBool: true, noop: true},             // there is no banner
	{name: "ignore-gitleaks-allow", from: "gitleaks", isBool: true, noop: true}, // gitleaks:allow is honoured only with --gitleaks-allow
	{name: "no-verification", from: "TruffleHog", isBool: true, noop: true},     // verification is off unless --verify
	{name: "no-update", from: "TruffleHog", isBool: true, noop: true},           // tokenward never updates itself
	// Not the same: a hint.
	{name: "baseline-path", shorthand: "b", from: "gitleaks", hint: "tokenward calls this --baseline, and it takes a tokenward baseline (tokenward baseline create), not a gitleaks report"},
	{name: "gitleaks-ignore-path", shorthand: "i", from: "gitleaks", hint: "tokenward reads .tokenwardignore; tokenward rules import-gitleaks --gitleaksignore FILE turns .gitleaksignore entries into baseline entries"},
	{name: "report-template", from: "gitleaks", hint: "tokenward calls this --format template --template FILE; a gitleaks template works with {{range gitleaks}} in place of {{range .}}"},
	{name: "timeout", from: "gitleaks", hint: "tokenward has no overall time limit: run it under timeout(1), e.g. timeout 10m tokenward …"},
	{name: "diagnostics", from: "gitleaks", hint: "tokenward calls this TOKENWARD_CPUPROFILE=FILE (a CPU profile)"},
	{name: "include-paths", from: "TruffleHog", hint: "tokenward calls this .tokenwardignore (gitignore patterns at the scanned root); there is no include list"},
	{name: "exclude-paths", from: "TruffleHog", hint: "tokenward calls this .tokenwardignore (gitignore patterns at the scanned root)"},
	{name: "branch", from: "TruffleHog", hint: "tokenward calls this --range BASE..BRANCH (without flags, every ref is scanned)"},
	{name: "max-depth", from: "TruffleHog", hint: "tokenward calls this --range BASE..HEAD (commits by range, not by count)"},
	{name: "filter-entropy", from: "TruffleHog", hint: "tokenward calls this entropy = N on a rule in the configuration (see README, Rules)"},
}

// compatCommands: foreign subcommand names. dir and filesystem are aliases of
// scan; detect, protect and stdin are rewritten before parsing (rewriteArgs).
var registerCompat = sync.OnceFunc(func() {
	scanCmd.Aliases = append(scanCmd.Aliases, "dir", "filesystem")
	for _, h := range []struct{ name, hint string }{
		{"github", "tokenward calls this sweep --github-org ORG (or --github-user USER)"},
		{"gitlab", "tokenward calls this sweep --gitlab-group GROUP"},
	} {
		rootCmd.AddCommand(&cobra.Command{
			Use: h.name, Hidden: true, DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error { return usageError(fmt.Errorf("%s: %s", h.name, h.hint)) },
		})
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c == rootCmd || c.Hidden || c.Name() == "help" || !c.Flags().HasFlags() {
			return
		}
		for _, cf := range compatFlags {
			addCompatFlag(c, cf)
		}
	}
	walk(rootCmd)
})

// addCompatFlag registers cf on c when c has what it stands for.
func addCompatFlag(c *cobra.Command, cf compatFlag) {
	f := c.Flags()
	if cf.shorthand != "" && f.ShorthandLookup(cf.shorthand) != nil {
		cf.shorthand = ""
	}
	switch {
	case cf.target != "":
		t := f.Lookup(cf.target)
		if t == nil {
			return
		}
		if f.Lookup(cf.name) != nil {
			return
		}
		a := f.VarPF(t.Value, cf.name, cf.shorthand, "alias of --"+cf.target+" ("+cf.from+")")
		a.NoOptDefVal = t.NoOptDefVal
		a.Hidden = true
	case cf.set != nil:
		if f.Lookup(cf.needs) == nil || f.Lookup(cf.name) != nil {
			return
		}
		a := f.VarPF(&compatValue{cmd: c, cf: cf}, cf.name, cf.shorthand, cf.from+" name")
		if cf.isBool {
			a.NoOptDefVal = "true"
		}
		a.Hidden = true
	default:
		if f.Lookup("format") == nil || f.Lookup(cf.name) != nil {
			return // hints only on the commands that scan or report
		}
		a := f.VarPF(&compatValue{cmd: c, cf: cf}, cf.name, cf.shorthand, cf.from+" name")
		if cf.isBool || cf.noop {
			a.NoOptDefVal = "true"
		}
		a.Hidden = true
	}
}

// compatValue is the value of a translated, no-op or hint flag.
type compatValue struct {
	cmd *cobra.Command
	cf  compatFlag
	v   string
}

func (v *compatValue) String() string { return v.v }
func (v *compatValue) Type() string {
	if v.cf.isBool {
		return "bool"
	}
	return "string"
}
func (v *compatValue) IsBoolFlag() bool { return v.cf.isBool }
func (v *compatValue) Set(s string) error {
	v.v = s
	if v.cf.set != nil {
		return v.cf.set(v.cmd, s)
	}
	return nil
}

var _ pflag.Value = (*compatValue)(nil)

// applyCompat runs after parsing: an alias marks its target as given (commands
// that ask whether --format was set see it), and a hint flag stops the command.
func applyCompat(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		for _, cf := range compatFlags {
			if cf.name != f.Name || err != nil {
				continue
			}
			switch {
			case cf.target != "" && cf.target != cf.name:
				if t := cmd.Flags().Lookup(cf.target); t != nil {
					t.Changed = true
				}
			case cf.hint != "":
				err = usageError(fmt.Errorf("--%s (%s): %s", cf.name, cf.from, cf.hint))
			}
		}
	})
	return err
}

// rewriteArgs turns gitleaks' command lines into tokenward's before parsing:
//
//	detect [--source P] [--no-git]   git P  (scan P with --no-git)
//	protect [--staged] [--source P]  git --staged P
//	stdin                            scan -
//	--source P / -s P / --source=P   P, as the positional argument
//
// and TruffleHog's `git file://PATH` into `git PATH`.
func rewriteArgs(args []string) ([]string, error) {
	i := commandIndex(args)
	if i < 0 {
		return args, nil
	}
	word := args[i]
	rest := slices.Clone(args[i+1:])
	switch word {
	case "detect", "protect", "stdin":
	case "git":
		for j, a := range rest {
			if strings.HasPrefix(a, "file://") {
				rest[j] = strings.TrimPrefix(a, "file://")
			} else if !strings.HasPrefix(a, "-") && regexp.MustCompile(`^(https?|ssh|git)://|^[\w.-]+@[\w.-]+:`).MatchString(a) {
				return nil, usageError(fmt.Errorf("git %s: tokenward git scans a local repository: clone it first (git clone --mirror %s), or sweep remote ones with tokenward sweep --repos FILE", a, a))
			}
		}
		return append(append(slices.Clone(args[:i]), word), rest...), nil
	default:
		return args, nil
	}
	var source []string
	noGit := false
	var kept []string
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--no-git":
			noGit = true
		case a == "--staged" && word == "protect":
		case (a == "--source" || a == "-s") && j+1 < len(rest):
			source = append(source, rest[j+1])
			j++
		case strings.HasPrefix(a, "--source="):
			source = append(source, strings.TrimPrefix(a, "--source="))
		default:
			kept = append(kept, a)
		}
	}
	var out []string
	switch {
	case word == "stdin":
		out = []string{"scan", "-"}
	case word == "protect":
		out = []string{"git", "--staged"}
	case noGit:
		out = []string{"scan"}
	default:
		out = []string{"git"}
	}
	out = append(append(slices.Clone(args[:i]), out...), kept...)
	return append(out, source...), nil
}

// commandIndex finds the subcommand word: the first argument that is not a flag
// of the root (-q, -v, --log-level LEVEL).
func commandIndex(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--log-level":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return i
		}
	}
	return -1
}
