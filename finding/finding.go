// Package finding defines the Finding record that every source, check and report shares.
package finding

import (
	"sort"
	"strconv"
	"strings"
)

// Kinds of finding.
const (
	KindSecret  = "secret"  // a credential
	KindHygiene = "hygiene" // a practice that leaks credentials
)

// Verification statuses.
const (
	StatusNotChecked        = "not_checked"
	StatusLive              = "live"
	StatusInvalid           = "invalid"
	StatusUnknown           = "unknown"
	StatusRevoked           = "revoked"
	StatusRevokeUnconfirmed = "revoke_unconfirmed"
)

// Verification is the outcome of a live check.
type Verification struct {
	Status     string `json:"status"`
	HTTPStatus int    `json:"http_status,omitempty"`
	CheckedAt  string `json:"checked_at,omitempty"`
	Detail     string `json:"detail,omitempty"`
	// Access is what a live credential reaches, where the provider says.
	Access *Access `json:"access,omitempty"`
}

// Access describes what a live credential can reach: who it authenticates as,
// under which account, with which scopes or policies, and how many resources.
type Access struct {
	Identity string   `json:"identity,omitempty"` // user, bot, role or key ARN, service account
	Account  string   `json:"account,omitempty"`  // organisation, workspace, AWS account, project
	Scopes   []string `json:"scopes,omitempty"`   // scopes, permissions or policies
	// Resources counts what the credential reaches (ResourceKind says what:
	// "private repositories", "buckets"); nil when not counted.
	Resources    *int   `json:"resources,omitempty"`
	ResourceKind string `json:"resource_kind,omitempty"`
	// Properties holds other facts the provider reports (live mode, expiry).
	Properties map[string]string `json:"properties,omitempty"`
}

// Summary renders a one-line description: "identity octo; account acme;
// scopes repo, gist; 42 private repositories".
func (a *Access) Summary() string {
	if a == nil {
		return ""
	}
	var parts []string
	if a.Identity != "" {
		parts = append(parts, "identity "+a.Identity)
	}
	if a.Account != "" {
		parts = append(parts, "account "+a.Account)
	}
	if len(a.Scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(a.Scopes, ", "))
	}
	if a.Resources != nil {
		kind := a.ResourceKind
		if kind == "" {
			kind = "resources"
		}
		parts = append(parts, strconv.Itoa(*a.Resources)+" "+kind)
	}
	keys := make([]string, 0, len(a.Properties))
	for k := range a.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+" "+a.Properties[k])
	}
	return strings.Join(parts, "; ")
}

// Empty reports whether a holds nothing.
func (a *Access) Empty() bool {
	return a == nil || (a.Identity == "" && a.Account == "" && len(a.Scopes) == 0 && a.Resources == nil && len(a.Properties) == 0)
}

// Finding is one secret or hygiene problem at one location. Its JSON form is the
// schema of every output format.
type Finding struct {
	RuleID      string `json:"rule_id"`
	Description string `json:"description"`
	Severity    string `json:"severity"`
	// Confidence is how sure the finding is that it holds a credential: high,
	// medium or low (see ConfidenceHigh).
	Confidence string `json:"confidence"`
	Kind       string `json:"kind"`
	File       string `json:"file"`
	// Line and Column locate the secret's first character (1-based; columns count
	// Unicode code points). EndLine and EndColumn locate the position just past its
	// last character, as SARIF regions do.
	Line        int     `json:"line"`
	Column      int     `json:"column"`
	EndLine     int     `json:"end_line"`
	EndColumn   int     `json:"end_column"`
	Secret      string  `json:"secret,omitempty"` // cleared by reports unless --show-secrets
	Redacted    string  `json:"redacted"`
	Context     string  `json:"context,omitempty"` // the line, with the secret redacted
	Fingerprint string  `json:"fingerprint"`
	Commit      string  `json:"commit,omitempty"`
	Author      string  `json:"author,omitempty"`
	Email       string  `json:"email,omitempty"`
	Date        string  `json:"date,omitempty"`
	Message     string  `json:"message,omitempty"` // hygiene: what is wrong and what to do
	Entropy     float64 `json:"entropy,omitempty"`
	Encoding    string  `json:"encoding,omitempty"` // decoder chain, e.g. "base64" or "percent+base64"
	// Deleted names the later container-image layer that deletes the file
	// ("layer-5"): the secret is gone from the running image's file system but
	// still readable in the layer that holds it. Empty everywhere else.
	Deleted string   `json:"deleted,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	// Match holds named capture groups (for verification templates); never serialised.
	Groups map[string]string `json:"-"`
	// Parts are the companion secrets of a composite credential (the rule's
	// [[rule.require]] entries): an AWS secret key beside its key id, a Twilio
	// auth token beside the account SID. They are verified together.
	Parts        []Part        `json:"parts,omitempty"`
	Verification *Verification `json:"verification,omitempty"`
}

// Part is one companion of a composite credential. Its Secret is cleared by
// reports unless --show-secrets, like the finding's.
type Part struct {
	RuleID   string `json:"rule_id"`
	Secret   string `json:"secret,omitempty"`
	Redacted string `json:"redacted"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Redact keeps a short, identifying prefix and suffix of a secret and hides the rest.
// Short secrets are hidden entirely.
func Redact(secret string) string {
	r := []rune(secret)
	switch {
	case len(r) == 0:
		return ""
	case len(r) < 12:
		return strings.Repeat("*", len(r))
	case len(r) < 24:
		return string(r[:2]) + "…" + string(r[len(r)-2:])
	default:
		return string(r[:4]) + "…" + string(r[len(r)-4:])
	}
}

// RedactIn replaces every occurrence of secret in s with its redacted form.
func RedactIn(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, Redact(secret))
}

// Confidence levels: how sure a finding is that it holds a live credential.
// Provider-format findings are high; a generic name-and-value finding is medium or
// low by the judgement of its value and where it is.
const (
	ConfidenceHigh   = "high"
	ConfidenceMedium = "medium"
	ConfidenceLow    = "low"
)

// Confidences lists the levels from most to least sure.
var Confidences = []string{ConfidenceHigh, ConfidenceMedium, ConfidenceLow}

// ConfidenceRank is the position of c in Confidences; an empty or unknown level
// ranks as medium.
func ConfidenceRank(c string) int {
	switch c {
	case ConfidenceHigh:
		return 0
	case ConfidenceLow:
		return 2
	}
	return 1
}

// LowerConfidence is the level one below c (low stays low).
func LowerConfidence(c string) string {
	return Confidences[min(ConfidenceRank(c)+1, len(Confidences)-1)]
}

// ValidConfidence reports whether c names a level.
func ValidConfidence(c string) bool {
	return c == ConfidenceHigh || c == ConfidenceMedium || c == ConfidenceLow
}

// MinConfidence keeps the findings at least as sure as min ("high", "medium" or
// "low"; "" or "low" keeps everything). The slice is filtered in place.
func MinConfidence(fs []Finding, min string) []Finding {
	if min == "" || min == ConfidenceLow {
		return fs
	}
	limit := ConfidenceRank(min)
	out := fs[:0]
	for _, f := range fs {
		if ConfidenceRank(f.Confidence) <= limit {
			out = append(out, f)
		}
	}
	return out
}

// Less orders findings by location, then rule, then commit: the order of every
// result, whatever the concurrency of the source that found them.
func Less(a, b *Finding) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Column != b.Column {
		return a.Column < b.Column
	}
	if a.RuleID != b.RuleID {
		return a.RuleID < b.RuleID
	}
	return a.Commit < b.Commit
}

// Sort sorts findings by Less, keeping the order of equal ones.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return Less(&fs[i], &fs[j]) })
}
