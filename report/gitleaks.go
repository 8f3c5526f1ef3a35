package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/tokenward/tokenward/finding"
)

// gitleaksRedacted is what gitleaks --redact writes in place of a secret.
const gitleaksRedacted = "REDACTED"

// gitleaksFinding is one entry of a gitleaks v8 JSON report (gitleaks
// report.Finding as it serialises: field names, order and types as gitleaks
// writes them; its Line field is not serialised and Link is omitted when empty).
type gitleaksFinding struct {
	RuleID      string
	Description string
	StartLine   int
	EndLine     int
	StartColumn int
	EndColumn   int
	Match       string
	Secret      string
	File        string
	SymlinkFile string
	Commit      string
	Link        string `json:",omitempty"`
	Entropy     float32
	Author      string
	Email       string
	Date        string
	Message     string
	Tags        []string
	Fingerprint string
}

// writeGitleaks writes gitleaks' JSON report so tools that parse gitleaks output
// (dashboards, DefectDojo, .gitleaksignore workflows) read tokenward's findings:
//
//   - columns: StartColumn is tokenward's column; EndColumn is inclusive (the
//     secret's last character), as gitleaks counts it;
//   - Secret and Match hold the secret, or "REDACTED" unless ShowSecrets;
//   - Fingerprint is gitleaks' commit:file:rule:line (file:rule:line outside
//     history), usable in a .gitleaksignore;
//   - Message is gitleaks' commit message, which tokenward does not keep: it is
//     empty, and a hygiene finding's advice goes into Description instead;
//   - Date is in UTC (RFC 3339), as gitleaks writes the author date;
//   - Link, as in gitleaks, points at the line on GitHub or GitLab when the
//     repository's remote is there and the finding has a commit.
func writeGitleaks(w io.Writer, fs []finding.Finding, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(toGitleaks(fs, opts))
}

// toGitleaks converts prepared findings to gitleaks' report entries.
func toGitleaks(fs []finding.Finding, opts Options) []gitleaksFinding {
	out := make([]gitleaksFinding, 0, len(fs))
	for _, f := range fs {
		secret := gitleaksRedacted
		if opts.ShowSecrets && f.Secret != "" {
			secret = f.Secret
		}
		desc := f.Description
		if f.Message != "" {
			if desc != "" {
				desc += ": "
			}
			desc += f.Message
		}
		endCol := f.EndColumn - 1
		if f.EndLine == f.Line && endCol < f.Column {
			endCol = f.Column
		}
		tags := f.Tags
		if tags == nil {
			tags = []string{}
		}
		out = append(out, gitleaksFinding{
			RuleID:      f.RuleID,
			Description: desc,
			StartLine:   f.Line,
			EndLine:     f.EndLine,
			StartColumn: f.Column,
			EndColumn:   max(endCol, 0),
			Match:       secret,
			Secret:      secret,
			File:        f.File,
			Commit:      f.Commit,
			Link:        scmLink(opts.RepositoryURI, f),
			Entropy:     float32(f.Entropy),
			Author:      f.Author,
			Email:       f.Email,
			Date:        gitleaksDate(f.Date),
			Tags:        tags,
			Fingerprint: gitleaksFingerprint(f),
		})
	}
	return out
}

// gitleaksFingerprint is gitleaks' finding identity, the line format of .gitleaksignore.
func gitleaksFingerprint(f finding.Finding) string {
	if f.Commit != "" {
		return fmt.Sprintf("%s:%s:%s:%d", f.Commit, f.File, f.RuleID, f.Line)
	}
	return fmt.Sprintf("%s:%s:%d", f.File, f.RuleID, f.Line)
}

// scmLink is the web address of a history finding's lines on github.com or
// gitlab.com, "" for other hosts or findings outside history. repo is the
// remote's URL (https, ssh:// or scp-like git@host:owner/name); any user
// information in it is dropped.
func scmLink(repo string, f finding.Finding) string {
	if repo == "" || f.Commit == "" || f.File == "" {
		return ""
	}
	if at, rest, ok := strings.Cut(repo, "@"); ok && !strings.Contains(at, "://") {
		if host, p, ok := strings.Cut(rest, ":"); ok { // git@github.com:owner/name.git
			repo = "https://" + host + "/" + p
		}
	}
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host != "github.com" && host != "gitlab.com" {
		return ""
	}
	repoPath := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if strings.Count(repoPath, "/") < 1 {
		return ""
	}
	segs := strings.Split(f.File, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	link := "https://" + host + "/" + repoPath + "/blob/" + url.PathEscape(f.Commit) + "/" + strings.Join(segs, "/")
	if ext := strings.ToLower(path.Ext(f.File)); host == "github.com" && (ext == ".md" || ext == ".ipynb") {
		link += "?plain=1" // GitHub renders these; line anchors need the source view
	}
	if f.Line > 0 {
		link += fmt.Sprintf("#L%d", f.Line)
		if f.EndLine > f.Line {
			if host == "github.com" {
				link += fmt.Sprintf("-L%d", f.EndLine)
			} else {
				link += fmt.Sprintf("-%d", f.EndLine)
			}
		}
	}
	return link
}

// gitleaksDate writes an RFC 3339 date in UTC, as gitleaks does; anything else
// passes unchanged.
func gitleaksDate(d string) string {
	t, err := time.Parse(time.RFC3339, d)
	if err != nil {
		return d
	}
	return t.UTC().Format(time.RFC3339)
}
