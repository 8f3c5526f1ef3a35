package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/baseline"
	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/rules/gitleaks"
)

var importFlags struct {
	ignoreFile  string
	source      string
	baselineOut string
}

var importGitleaksCmd = &cobra.Command{
	Use:   "import-gitleaks CONFIG",
	Short: "Convert a gitleaks configuration and .gitleaksignore to tokenward",
	Long: `Convert a gitleaks v8 configuration (.gitleaks.toml) into tokenward rule TOML,
written to stdout or --output FILE, and report on stderr everything that could not
be converted or behaves differently. The converted file lists the same report in
its header.

Converted: rules (id, description, regex, secretGroup, entropy, keywords, path,
tags), allowlists in every form ([rules.allowlist], [[rules.allowlists]],
[allowlist], [[allowlists]] with condition, regexTarget, regexes, paths, stopwords
and targetRules), and [extend] (useDefault keeps tokenward's built-in rules in place
of gitleaks' defaults; path is read and merged as gitleaks does; disabledRules).
Not converted, and reported: commit allowlists, path-only rules, required
(composite) rules, keywords shorter than 3 bytes (the rule anchors on its regex
instead), rules tokenward rejects.

A .gitleaksignore (next to CONFIG, or --gitleaksignore FILE) becomes baseline
entries: each fingerprint (commit:file:rule:line or file:rule:line) is looked up by
scanning the file it names, at its commit when it has one, with the converted
rules. Recovered secrets are added to --baseline-output (default
.tokenward-baseline.json in --source); entries that cannot be recovered are listed.

You can also skip the conversion step: tokenward scan --config .gitleaks.toml
converts in memory.`,
	Args: cobra.ExactArgs(1),
	RunE: runImportGitleaks,
}

func init() {
	f := importGitleaksCmd.Flags()
	f.StringVar(&importFlags.ignoreFile, "gitleaksignore", "", "the .gitleaksignore file to import (default: .gitleaksignore next to CONFIG, if present)")
	f.StringVar(&importFlags.source, "source", "", "the directory the fingerprints' paths are relative to, as gitleaks --source (default: the .gitleaksignore's directory)")
	f.StringVar(&importFlags.baselineOut, "baseline-output", "", "baseline file to add recovered .gitleaksignore entries to (default: "+baseline.DefaultFile+" in --source)")
	rulesCmd.AddCommand(importGitleaksCmd)
	ruleConverters = append(ruleConverters, convertGitleaks)
}

// convertGitleaks lets --config name a gitleaks configuration: it is converted in
// memory, with a one-line summary of what could not be converted.
func convertGitleaks(path string, data []byte) ([]byte, bool, error) {
	if !gitleaks.IsConfig(path, data) {
		return nil, false, nil
	}
	res, err := gitleaks.Convert(path, data, gitleaks.Options{})
	if err != nil {
		return nil, true, errors.New(trimPath(path, err))
	}
	if len(res.Notes) > 0 {
		dropped := len(res.Dropped())
		fmt.Fprintf(os.Stderr, "tokenward: warning: %s is a gitleaks configuration, converted in memory: %s not converted, %s with different behaviour (see `tokenward rules import-gitleaks %s`)\n",
			path, plural(int64(dropped), "item"), plural(int64(len(res.Notes)-dropped), "item"), path)
	}
	return res.TOML, true, nil
}

var linePrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+): `) })

// trimPath drops the leading file name from a conversion error, which rules.Load
// prefixes again.
func trimPath(path string, err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, path+":"); ok {
		rest = strings.TrimPrefix(rest, " ")
		return linePrefix().ReplaceAllString(rest, "line $1: ")
	}
	return msg
}

func runImportGitleaks(cmd *cobra.Command, args []string) error {
	path := args[0]
	data, err := os.ReadFile(path)
	if err != nil {
		return usageError(err)
	}
	res, err := gitleaks.Convert(path, data, gitleaks.Options{})
	if err != nil {
		return usageError(err)
	}
	stderr := cmd.ErrOrStderr()
	if err := writeConverted(cmd, path, res.TOML); err != nil {
		return err
	}
	printNotes(stderr, res.Notes)
	dest := "stdout"
	if common.output != "" && common.output != "-" {
		dest = common.output
	}
	fmt.Fprintf(stderr, "tokenward: %s: %s written to %s (%s), %s not converted\n", path,
		plural(int64(res.Rules), "rule"), dest, builtinWord(res.Builtin), plural(int64(len(res.Dropped())), "item"))
	if !res.Builtin {
		fmt.Fprintf(stderr, "tokenward: note: a configuration that replaces the built-in rules is trusted only when named with --config %s or allowed with %s\n", dest, rules.TrustFlag)
	}
	return importIgnores(cmd, path, res)
}

func builtinWord(b bool) string {
	if b {
		return "extending the built-in rules"
	}
	return "replacing the built-in rules"
}

func writeConverted(cmd *cobra.Command, input string, out []byte) error {
	if common.output == "" || common.output == "-" {
		_, err := cmd.OutOrStdout().Write(out)
		return err
	}
	if a, b := filepath.Clean(common.output), filepath.Clean(input); a == b {
		return usageError(fmt.Errorf("--output %s would overwrite the gitleaks configuration itself: choose another file, e.g. %s", common.output, rules.ConfigFileName))
	}
	if err := writeFileAtomic(common.output, out, 0o644); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--output: %w", err)}
	}
	return nil
}

func printNotes(w io.Writer, notes []gitleaks.Note) {
	for _, kind := range []gitleaks.NoteKind{gitleaks.Dropped, gitleaks.Changed} {
		first := true
		for _, n := range notes {
			if n.Kind != kind {
				continue
			}
			if first {
				fmt.Fprintf(w, "%s:\n", kind)
				first = false
			}
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

// importIgnores turns .gitleaksignore fingerprints into baseline entries.
func importIgnores(cmd *cobra.Command, configPath string, res *gitleaks.Result) error {
	stderr := cmd.ErrOrStderr()
	ignorePath := importFlags.ignoreFile
	if ignorePath == "" {
		ignorePath = filepath.Join(filepath.Dir(configPath), ".gitleaksignore")
		if _, err := os.Stat(ignorePath); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	f, err := os.Open(ignorePath)
	if err != nil {
		return usageError(fmt.Errorf("--gitleaksignore: %w", err))
	}
	entries, bad, err := gitleaks.ParseIgnore(f)
	f.Close()
	if err != nil {
		return usageError(fmt.Errorf("%s: %w", ignorePath, err))
	}
	source := importFlags.source
	if source == "" {
		source = filepath.Dir(ignorePath)
	}
	set, err := rules.Load(rules.LoadOptions{ConfigPath: configPath,
		Convert: func(string, []byte) ([]byte, bool, error) { return res.TOML, true, nil }})
	if err != nil {
		return usageError(err)
	}
	eng, err := engine.New(set, engine.Options{})
	if err != nil {
		return usageError(err)
	}
	src := &gitleaks.Source{Root: source}
	rec, unrec := gitleaks.Recover(entries, src.Read, res.RuleIDs, eng.ScanBytes)
	unrec = append(bad, unrec...)

	out := importFlags.baselineOut
	if out == "" {
		out = filepath.Join(source, baseline.DefaultFile)
	}
	added := 0
	if len(rec) > 0 {
		b, err := baseline.Load(out)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			b = &baseline.Baseline{Entries: map[string]baseline.Entry{}}
		case err != nil:
			return usageError(err)
		}
		for _, r := range rec {
			for _, fd := range r.Findings {
				if _, ok := b.Entries[fd.Fingerprint]; ok {
					continue
				}
				b.Entries[fd.Fingerprint] = baseline.Entry{RuleID: fd.RuleID, File: fd.File,
					Reason: fmt.Sprintf("imported from %s:%d (%s)", filepath.Base(ignorePath), r.Entry.Line, r.Entry.Text)}
				added++
			}
			if r.Note != "" {
				fmt.Fprintf(stderr, "tokenward: %s:%d: %s: %s\n", ignorePath, r.Entry.Line, r.Entry.Text, r.Note)
			}
		}
		if err := b.WriteFile(out); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	fmt.Fprintf(stderr, "tokenward: %s: %d of %d entries recovered, %d baseline entries added to %s\n", ignorePath,
		len(rec), len(rec)+len(unrec), added, out)
	if len(unrec) > 0 {
		fmt.Fprintf(stderr, "not recovered (accept these findings with `tokenward baseline update` after reviewing them):\n")
		for _, u := range unrec {
			fmt.Fprintf(stderr, "  - %s:%d: %s: %s\n", ignorePath, u.Line, u.Text, u.Reason)
		}
	}
	return nil
}
