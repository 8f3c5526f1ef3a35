// Package hygiene finds practices that leak credentials: tokens in URLs, malformed
// Authorization headers, long-lived or unsigned JWTs, secrets in browser-shipped
// code, and credentials stored in credential and configuration files. Findings have
// Kind "hygiene" and the rule ids listed in Catalogue (docs/hygiene.md).
package hygiene

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene/config"
	"github.com/tokenward/tokenward/rules"
)

// DefaultMaxFileBytes bounds the content Check looks at.
const DefaultMaxFileBytes = 16 << 20

// Checker runs the hygiene checks. It is safe for concurrent use once configured.
type Checker struct {
	cfg   Config
	allow []rules.Allow

	// Now is the clock JWT expiry is judged against (default time.Now).
	Now func() time.Time
	// Logf receives debug notes: files skipped or parsed with the line fallback,
	// and why. Nil discards them. Notes never hold secrets.
	Logf func(format string, args ...any)
	// MaxFileBytes: larger content is not checked at all (default 16 MiB).
	MaxFileBytes int
}

// New returns a checker for the given configuration.
func New(cfg Config) *Checker {
	if cfg.Disabled == nil {
		cfg.Disabled = map[string]bool{}
	}
	if cfg.Severity == nil {
		cfg.Severity = map[string]string{}
	}
	if cfg.MaxJWTLifetime <= 0 {
		cfg.MaxJWTLifetime = DefaultMaxJWTLifetime
	}
	if cfg.MaxConfigBytes <= 0 {
		cfg.MaxConfigBytes = DefaultMaxConfigBytes
	}
	return &Checker{cfg: cfg, Now: time.Now, MaxFileBytes: DefaultMaxFileBytes}
}

// FromSet decodes the set's [hygiene] table, honours hygiene ids in its
// `disabled` list, and applies its global allow list (paths, regexes,
// stopwords) to hygiene findings as the engine does to secrets.
func FromSet(set *rules.Set) (*Checker, error) {
	cfg, err := ConfigOf(set)
	if err != nil {
		return nil, err
	}
	c := New(cfg)
	for _, a := range set.Allow {
		if err := a.Compile(); err != nil {
			return nil, fmt.Errorf("allow: %w", err)
		}
		c.allow = append(c.allow, a)
	}
	return c, nil
}

// Config returns the checker's configuration.
func (c *Checker) Config() Config { return c.cfg }

func (c *Checker) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Check runs the content checks on one file: tokens in URLs, Authorization
// header literals, and, by file name and syntax, credential files and
// structured configuration judged by key path. Findings are sorted by position.
func (c *Checker) Check(filePath string, data []byte) []finding.Finding {
	return c.check(filePath, data, false, config.Unknown)
}

// check runs the content checks; host marks the user's own credential files
// (different advice, lower severity) and format, when known, overrides the
// syntax the name implies.
func (c *Checker) check(filePath string, data []byte, host bool, format config.Format) []finding.Finding {
	if !c.cfg.Enabled {
		return nil
	}
	if c.MaxFileBytes > 0 && len(data) > c.MaxFileBytes {
		c.logf("hygiene: %s: %d bytes is over the %d-byte limit; hygiene checks skipped", filePath, len(data), c.MaxFileBytes)
		return nil
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil // binary
	}
	d := newDoc(c, filePath, data)
	d.host, d.format = host, format
	kind := classify(filePath)
	c.checkFiles(d, kind)
	if kind != kindGitCredentials {
		c.checkURLs(d)
	}
	if kind != kindGitConfig { // its extraheader is judged as stored, not as a header literal
		c.checkHeaders(d)
	}
	return d.findings()
}

// LineLocal reports whether Check's findings on data at filePath are exactly
// those of CheckLines on each of its lines alone (lines renumbered): the checks
// are off, or data is within MaxFileBytes and not binary and the path's file
// kind is checked line by line only. The URL and header checks are line-local
// (they read within the line of what they flag, and ignore a line break as text
// does not continue across it); the credential-file and configuration checks
// (by file name or syntax: .netrc, .env, YAML, JSON, INI...) judge structure
// across lines, so content at such paths is never line-local. Sources that scan
// only the changed lines of a version and take the rest from a base's result
// (git deltas) use it; TestLineLocal holds the claim.
func (c *Checker) LineLocal(filePath string, data []byte) bool {
	if !c.cfg.Enabled {
		return true
	}
	if c.MaxFileBytes > 0 && len(data) > c.MaxFileBytes || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return false
	}
	return lineLocalPath(filePath)
}

// lineLocalPath reports paths that only the line-local checks read.
func lineLocalPath(p string) bool {
	return classify(p) == kindOther && config.FormatOf(p) == config.Unknown
}

// CheckLines runs Check's checks on lines, whole lines (from a line start to just
// after a newline, or to the end) of content for which LineLocal holds: its
// findings are Check's on those lines of the whole, positioned in lines. The
// whole-file limits are LineLocal's to judge, not applied to the part.
func (c *Checker) CheckLines(filePath string, lines []byte) []finding.Finding {
	if !c.cfg.Enabled || !lineLocalPath(filePath) {
		return nil
	}
	d := newDoc(c, filePath, lines)
	c.checkURLs(d)
	c.checkHeaders(d)
	return d.findings()
}

// PathClass returns a key such that Check gives the same findings for one
// content under two paths with the same key (apart from File): the file kind,
// its name (syntax, messages) and the directories that change judgement (test
// and locale trees). Sources that scan a blob once for many paths use it.
func PathClass(p string) string {
	s := strings.ReplaceAll(p, `\`, "/")
	return fmt.Sprintf("%d|%d|%s|%t|%t", classify(s), config.FormatOf(s), path.Base(s), testPath(s), localeFile(s))
}

// doc is one file under check and the findings gathered for it.
type doc struct {
	c      *Checker
	path   string
	data   []byte
	lines  []int // byte offset of each line start; built on first use (most files have no finding)
	out    []finding.Finding
	seen   map[string]bool // issues already added; nil until the first
	host   bool            // checking the user's own credential files (--host-config)
	format config.Format   // syntax override (Unknown: by name)
}

func newDoc(c *Checker, p string, data []byte) *doc {
	return &doc{c: c, path: p, data: data}
}

// lineStarts returns the byte offset of each line start.
func (d *doc) lineStarts() []int {
	if d.lines == nil {
		d.lines = make([]int, 1, 1+bytes.Count(d.data, []byte{'\n'}))
		for at := 0; ; {
			i := bytes.IndexByte(d.data[at:], '\n')
			if i < 0 {
				break
			}
			at += i + 1
			d.lines = append(d.lines, at)
		}
	}
	return d.lines
}

// pos converts a byte offset into a 1-based line and rune column.
func (d *doc) pos(off int) (line, col int) {
	lines := d.lineStarts()
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > off }) - 1
	return i + 1, 1 + utf8.RuneCount(d.data[lines[i]:off])
}

// lineAt returns the bounds of the line holding off.
func (d *doc) lineAt(off int) (int, int) {
	lines := d.lineStarts()
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > off }) - 1
	lo := lines[i]
	hi := len(d.data)
	if i+1 < len(lines) {
		hi = lines[i+1] - 1
	}
	if hi > lo && d.data[hi-1] == '\r' {
		hi--
	}
	return lo, hi
}

// issue is what a check reports; add turns it into a Finding.
type issue struct {
	rule       string
	start, end int    // byte span in the document
	secret     string // the credential, when one is present literally
	msg        string
	severity   string // "" = configured severity of the rule
	tags       []string
}

const contextMax = 240

func (d *doc) add(is issue) {
	if !d.c.cfg.On(is.rule) {
		return
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", is.rule, is.start, is.end)
	if d.seen[key] {
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[key] = true
	lo, hi := d.lineAt(is.start)
	line := d.data[lo:hi]
	if bytes.Contains(line, []byte("tokenward:allow")) {
		return
	}
	if d.c.allowed(d.path, is.secret, d.data[is.start:is.end], line) {
		return
	}
	f := d.c.newFinding(is.rule, is.severity)
	f.File = d.path
	f.Line, f.Column = d.pos(is.start)
	f.EndLine, f.EndColumn = d.pos(is.end)
	f.Secret = is.secret
	f.Redacted = finding.Redact(is.secret)
	f.Context = contextLine(line, is.start-lo, is.end-lo, is.secret)
	f.Message = is.msg
	f.Tags = append(f.Tags, is.tags...)
	f.Confidence = confidenceOf(is.rule, is.tags)
	if is.secret != "" {
		f.Fingerprint = finding.Fingerprint(is.rule, is.secret)
	} else {
		// No credential to key on: the flagged text identifies it (not the path,
		// so that the fingerprint survives renames as a secret's does).
		f.Fingerprint = finding.Fingerprint(is.rule, string(d.data[is.start:is.end]))
	}
	d.out = append(d.out, f)
}

// confidenceOf is how sure a finding is: a credential read from a file format
// whose fields are credentials by definition (.netrc, .git-credentials, .pgpass,
// .htpasswd...) is high; a value judged by its key name (config keys, .env lines)
// and a practice are medium.
func confidenceOf(rule string, tags []string) string {
	if rule != "config-credential-key" && rule != "dotenv-credential" && slices.Contains(tags, "credential-store") {
		return finding.ConfidenceHigh
	}
	return finding.ConfidenceMedium
}

func (c *Checker) newFinding(rule, severity string) finding.Finding {
	desc := rule
	if hc, ok := CheckByID(rule); ok {
		desc = hc.Description
	}
	if severity == "" || c.cfg.Severity[rule] != "" {
		severity = c.cfg.SeverityOf(rule)
	}
	return finding.Finding{RuleID: rule, Description: desc, Severity: severity, Confidence: finding.ConfidenceMedium,
		Kind: finding.KindHygiene, Tags: []string{"hygiene"}}
}

// contextLine is the line around line[start:end] as a finding shows it: cut
// first (finding.Excerpt: never inside the match or any other token), then the
// secret hidden in every form, so a cut cannot leave part of it showing.
func contextLine(line []byte, start, end int, secret string) string {
	end = min(max(end, start), len(line))
	return finding.RedactAll(finding.Excerpt(string(line), start, end, contextMax, false, false), secret)
}

func (d *doc) findings() []finding.Finding {
	sort.SliceStable(d.out, func(i, j int) bool {
		a, b := d.out[i], d.out[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.RuleID < b.RuleID
	})
	return d.out
}

// allowed applies the global allow list: within one entry every given
// condition must hold, as in the engine.
func (c *Checker) allowed(p, secret string, match, line []byte) bool {
	for i := range c.allow {
		a := &c.allow[i]
		conds := 0
		if len(a.Paths) > 0 {
			if !anyMatch(a.PathRegexps(), p) {
				continue
			}
			conds++
		}
		if len(a.Regexes) > 0 {
			target := secret
			switch a.Target {
			case "match":
				target = string(match)
			case "line":
				target = string(line)
			}
			if target == "" || !anyMatch(a.Regexps(), target) {
				continue
			}
			conds++
		}
		if len(a.Stopwords) > 0 {
			lower := strings.ToLower(secret)
			hit := false
			for _, w := range a.Stopwords {
				if lower != "" && strings.Contains(lower, strings.ToLower(w)) {
					hit = true
				}
			}
			if !hit {
				continue
			}
			conds++
		}
		if conds > 0 {
			return true
		}
	}
	return false
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// fileKind names the credential-file formats recognised by name.
type fileKind int

const (
	kindOther fileKind = iota
	kindNetrc
	kindNpmrc
	kindPypirc
	kindGitCredentials
	kindGitConfig
	kindDotenv
	kindDockerConfig
	kindKubeconfig
	kindPgpass
	kindHtpasswd
	kindShadow
	kindMyCnf
	kindDeployConfig
	kindRailsKey
)

func classify(p string) fileKind {
	s := strings.ReplaceAll(p, `\`, "/")
	base := path.Base(s)
	lb := strings.ToLower(base)
	switch {
	case lb == ".netrc" || lb == "_netrc":
		return kindNetrc
	case lb == ".npmrc" || lb == ".yarnrc":
		return kindNpmrc
	case lb == ".pypirc":
		return kindPypirc
	case lb == ".git-credentials" || strings.HasSuffix(s, ".config/git/credentials"):
		return kindGitCredentials
	case lb == ".gitconfig" || lb == ".gitmodules" || strings.HasSuffix(s, ".git/config") || strings.HasSuffix(s, ".config/git/config"):
		return kindGitConfig
	case lb == ".pgpass" || lb == "pgpass":
		return kindPgpass
	case lb == ".htpasswd" || lb == "htpasswd" || strings.HasSuffix(lb, ".htpasswd"):
		return kindHtpasswd
	case lb == "shadow" || lb == "shadow-" || lb == "gshadow":
		return kindShadow
	case lb == ".my.cnf" || lb == "my.cnf" || lb == "my.ini":
		return kindMyCnf
	case lb == "sftp-config.json" || lb == ".ftpconfig" || lb == ".remote-sync.json" || strings.HasSuffix(s, ".vscode/sftp.json"):
		return kindDeployConfig
	case strings.HasSuffix(s, "config/master.key") || strings.Contains(s, "config/credentials/") && strings.HasSuffix(lb, ".key"):
		return kindRailsKey
	case lb == ".env" || strings.HasPrefix(lb, ".env.") || strings.HasSuffix(lb, ".env"):
		return kindDotenv
	case strings.HasSuffix(s, ".docker/config.json"):
		return kindDockerConfig
	case strings.HasSuffix(s, ".kube/config") || lb == "kubeconfig" || strings.HasPrefix(lb, "kubeconfig."):
		return kindKubeconfig
	}
	return kindOther
}
