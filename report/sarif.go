package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/tokenward/tokenward/finding"
)

// SARIF 2.1.0 identifiers.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// FingerprintKey names tokenward's partial fingerprint in SARIF results: the
	// finding fingerprint (rule + secret), stable across line moves and renames.
	FingerprintKey = "tokenward/v1"
	// LocationFingerprintKey names a second partial fingerprint that also covers
	// the file, so one secret committed in two files stays two alerts.
	LocationFingerprintKey = "tokenwardLocation/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool                     sarifTool             `json:"tool"`
	Invocations              []sarifInvocation     `json:"invocations,omitempty"`
	VersionControlProvenance []sarifVersionControl `json:"versionControlProvenance,omitempty"`
	Results                  []sarifResult         `json:"results"`
	ColumnKind               string                `json:"columnKind"`
	Properties               *sarifRunProperties   `json:"properties,omitempty"`
}

// sarifRunProperties carries the run's statistics, skipped content by name.
type sarifRunProperties struct {
	Stats Stats `json:"tokenward/stats"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMultiText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	HelpURI              string             `json:"helpUri,omitempty"`
	Help                 sarifMultiText     `json:"help"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Precision        string   `json:"precision"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          *sarifResultProps `json:"properties,omitempty"`
}

type sarifResultProps struct {
	Severity   string `json:"severity,omitempty"`
	Confidence string `json:"confidence,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Author     string `json:"author,omitempty"`
	Email      string `json:"email,omitempty"`
	Date       string `json:"date,omitempty"`
	Encoding   string `json:"encoding,omitempty"`
	Deleted    string `json:"deleted,omitempty"` // the image layer that deletes the file
	Redacted   string `json:"redacted,omitempty"`
	Secret     string `json:"secret,omitempty"` // only with ShowSecrets
	// Parts are a composite credential's companions (their secrets only with
	// ShowSecrets).
	Parts        []finding.Part        `json:"parts,omitempty"`
	Verification *finding.Verification `json:"verification,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifVersionControl struct {
	RepositoryURI string `json:"repositoryUri"`
	RevisionID    string `json:"revisionId,omitempty"`
}

// writeSARIF writes one SARIF 2.1.0 run. tool.driver.rules holds only the rules
// that findings reference (sorted by id), so the file stays small and changes only
// when results do; Options.Rules supplies their metadata.
func writeSARIF(w io.Writer, fs []finding.Finding, opts Options) error {
	rules, index := sarifRules(fs, opts.Rules)
	results := make([]sarifResult, 0, len(fs))
	for _, f := range fs {
		results = append(results, sarifResultFor(f, index[f.RuleID], opts.ShowSecrets))
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "tokenward",
			Version:        opts.Version,
			InformationURI: InformationURI,
			Rules:          rules,
		}},
		Results: results,
		// Finding columns count Unicode code points (see finding.Finding).
		ColumnKind: "unicodeCodePoints",
	}
	if s := opts.Summary; s != nil {
		inv := sarifInvocation{ExecutionSuccessful: len(s.Problems) == 0}
		for _, p := range s.Problems {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "error", Message: sarifText{Text: p}})
		}
		run.Invocations = []sarifInvocation{inv}
		run.Properties = &sarifRunProperties{Stats: s.stats()}
	}
	if vc, ok := provenance(fs, opts); ok {
		run.VersionControlProvenance = []sarifVersionControl{vc}
	}
	log := sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// provenance builds run.versionControlProvenance when the repository URI is an
// absolute URI; the revision is opts.Revision, else the one commit all findings share.
func provenance(fs []finding.Finding, opts Options) (sarifVersionControl, bool) {
	u, err := url.Parse(opts.RepositoryURI)
	if opts.RepositoryURI == "" || err != nil || !u.IsAbs() {
		return sarifVersionControl{}, false
	}
	rev := opts.Revision
	if rev == "" && len(fs) > 0 {
		rev = fs[0].Commit
		for _, f := range fs[1:] {
			if f.Commit != rev {
				rev = ""
				break
			}
		}
	}
	return sarifVersionControl{RepositoryURI: opts.RepositoryURI, RevisionID: rev}, true
}

func sarifRules(fs []finding.Finding, infos []RuleInfo) ([]sarifRule, map[string]int) {
	known := make(map[string]RuleInfo, len(infos))
	for _, r := range infos {
		known[r.ID] = r
	}
	type used struct {
		info    RuleInfo
		hygiene bool // every finding of the rule is a hygiene finding
	}
	byID := map[string]*used{}
	for _, f := range fs {
		u := byID[f.RuleID]
		if u == nil {
			info, ok := known[f.RuleID]
			if !ok {
				info = RuleInfo{ID: f.RuleID, Description: f.Description, Severity: f.Severity, Tags: f.Tags}
			}
			u = &used{info: info, hygiene: true}
			byID[f.RuleID] = u
		}
		if f.Kind != finding.KindHygiene {
			u.hygiene = false
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rules := make([]sarifRule, 0, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
		rules = append(rules, sarifRuleFor(byID[id].info, byID[id].hygiene))
	}
	return rules, index
}

func sarifRuleFor(r RuleInfo, hygiene bool) sarifRule {
	desc := r.Description
	if desc == "" {
		desc = r.ID
	}
	kind := finding.KindSecret
	if hygiene {
		kind = finding.KindHygiene
	}
	tags := append([]string{"security", kind}, r.Tags...)
	slices.Sort(tags)
	tags = slices.Compact(tags)

	sev := r.Severity
	if sev == "" {
		sev = "unknown"
	}
	full := desc + " (severity: " + sev + ")"
	var helpText, helpMD string
	if hygiene {
		helpText = desc + ".\n\nThis is a token-hygiene finding: the code handles a credential in a way that leaks it. " +
			"Follow the finding's message to fix the practice."
		helpMD = "**" + mdEscape(desc) + "**\n\nThis is a token-hygiene finding: the code handles a credential in a way that leaks it. " +
			"Follow the finding's message to fix the practice."
	} else {
		helpText = desc + ".\n\nA credential is committed in plain text. Revoke or rotate it with its issuer first " +
			"(removing it from the code does not make it safe: it stays in git history), then load it at run time " +
			"from a secret manager or environment variable. To accept a known finding, add its fingerprint to the " +
			"baseline (tokenward baseline update) with a reason."
		helpMD = "**" + mdEscape(desc) + "**\n\nA credential is committed in plain text.\n\n" +
			"1. Revoke or rotate it with its issuer first: removing it from the code does not make it safe, it stays in git history.\n" +
			"2. Load it at run time from a secret manager or an environment variable.\n" +
			"3. To accept a known finding, add its fingerprint to the baseline (`tokenward baseline update`) with a reason."
	}
	if r.HelpURI != "" {
		helpText += "\n\nMore: " + r.HelpURI
		helpMD += "\n\n[More about this rule](" + r.HelpURI + ")"
	}
	return sarifRule{
		ID:                   r.ID,
		Name:                 ruleName(r.ID),
		ShortDescription:     sarifText{Text: desc},
		FullDescription:      sarifText{Text: full},
		HelpURI:              r.HelpURI,
		Help:                 sarifMultiText{Text: helpText, Markdown: helpMD},
		DefaultConfiguration: sarifConfiguration{Level: level(r.Severity)},
		Properties: sarifRuleProps{
			Tags:             tags,
			SecuritySeverity: securitySeverity(r.Severity),
			Precision:        "high",
		},
	}
}

// securitySeverity maps a severity onto GitHub's 0.0–10.0 scale (critical > 9.0,
// high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9); info has none.
func securitySeverity(sev string) string {
	switch finding.SeverityRank(sev) {
	case 0:
		return "9.5"
	case 1:
		return "8.0"
	case 2:
		return "5.5"
	case 3:
		return "2.0"
	}
	return ""
}

// ruleName turns a kebab-case id into the PascalCase name SARIF viewers expect:
// "github-pat" -> "GithubPat".
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Rule"
	}
	return b.String()
}

func mdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func sarifResultFor(f finding.Finding, ruleIndex int, showSecrets bool) sarifResult {
	res := sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           ruleIndex,
		Level:               level(f.Severity),
		Message:             sarifText{Text: message(f)},
		Locations:           []sarifLocation{{PhysicalLocation: physical(f)}},
		PartialFingerprints: map[string]string{FingerprintKey: f.Fingerprint},
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints[LocationFingerprintKey] = finding.Fingerprint(f.Fingerprint, f.File)
	}
	props := sarifResultProps{
		Severity:     f.Severity,
		Confidence:   f.Confidence,
		Kind:         f.Kind,
		Commit:       f.Commit,
		Author:       f.Author,
		Email:        f.Email,
		Date:         f.Date,
		Encoding:     f.Encoding,
		Deleted:      f.Deleted,
		Redacted:     f.Redacted,
		Parts:        f.Parts,
		Verification: f.Verification,
	}
	if showSecrets {
		props.Secret = f.Secret
	} else {
		props.Parts = slices.Clone(f.Parts)
		for i := range props.Parts {
			props.Parts[i].Secret = ""
		}
	}
	res.Properties = &props
	return res
}

func physical(f finding.Finding) sarifPhysical {
	p := sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.File)}}
	if f.Line < 1 {
		return p // a whole-file finding
	}
	r := &sarifRegion{StartLine: f.Line}
	if f.Column >= 1 {
		r.StartColumn = f.Column
	}
	if f.EndLine >= f.Line {
		r.EndLine = f.EndLine
		// Both SARIF endColumn and finding.EndColumn (as the engine computes it)
		// are one past the last character.
		if f.EndColumn >= 1 && (f.EndLine > f.Line || f.EndColumn > f.Column) {
			r.EndColumn = f.EndColumn
		}
	}
	p.Region = r
	return p
}

// artifactURI turns a reported path into a relative URI reference with forward
// slashes and percent-escaping; absolute paths become file:// URIs, and objects
// (s3://bucket/key) stay s3:// URIs, their keys escaped but not cleaned ("a//b"
// and "a/b" are different keys).
func artifactURI(p string) string {
	if rest, ok := strings.CutPrefix(p, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		return "s3://" + (&url.URL{Path: bucket}).EscapedPath() + "/" + strings.TrimPrefix((&url.URL{Path: "/" + key}).EscapedPath(), "/")
	}
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return "."
	}
	abs := strings.HasPrefix(p, "/")
	if len(p) >= 3 && p[1] == ':' && p[2] == '/' && unicode.IsLetter(rune(p[0])) { // C:/...
		p, abs = "/"+p, true
	}
	p = path.Clean(p)
	esc := (&url.URL{Path: p}).EscapedPath()
	if abs {
		return "file://" + esc
	}
	// A colon in the first segment would read as a scheme: "a:b" -> "./a:b".
	if first, _, _ := strings.Cut(esc, "/"); strings.Contains(first, ":") {
		esc = "./" + esc
	}
	return esc
}
