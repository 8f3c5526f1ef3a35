package report

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// htmlPage is the data of the html format's template.
type htmlPage struct {
	Title       string
	Version     string
	Repository  string
	Revision    string
	ShowSecrets bool
	Total       int
	Files       int
	Rules       int
	Severities  []htmlCount // findings per severity, most severe first
	Statuses    []htmlCount // findings per verification status
	Scan        []string    // scan summary lines
	Problems    []string
	Skipped     []htmlField // path, reason: what was not scanned (at most maxHTMLSkipped)
	SkippedMore int         // skipped entries beyond those listed
	Groups      []htmlSeverity
	CSP         string
	Style       template.CSS
	Script      template.JS
}

// SkippedTotal is how many entries the scan did not scan.
func (p htmlPage) SkippedTotal() int { return len(p.Skipped) + p.SkippedMore }

type htmlCount struct {
	Name  string
	Count int
}

type htmlSeverity struct {
	Name  string
	Count int
	Rules []htmlRule
}

type htmlRule struct {
	ID          string
	Description string
	Count       int
	Files       []htmlFile
}

type htmlFile struct {
	Path     string
	Findings []htmlFinding
}

type htmlFinding struct {
	Severity    string
	Kind        string
	Location    string // line:column
	Shown       string // the redacted secret (the secret with --show-secrets)
	Before      string // context around Shown
	Match       string
	After       string
	Message     string
	Encoding    string
	Commit      string
	Author      string
	Date        string
	Fingerprint string
	Entropy     string
	Tags        string
	Verify      *htmlVerification
	Search      string // the text the search box matches (the script compares it case-insensitively)
}

type htmlVerification struct {
	Status    string
	Class     string // live, invalid or other
	HTTP      int
	CheckedAt string
	Detail    string
	Access    []htmlField // what the credential grants, when the verifier mapped it
}

type htmlField struct{ Key, Value string }

// writeHTML writes one self-contained page: inline CSS and JavaScript, no
// external resource (its Content-Security-Policy forbids any, and allows only
// its own script and style by hash), every value escaped by html/template. It
// holds a summary, then the findings grouped by severity, rule and file with
// redacted context, verification status and access, and a search box and
// severity filter that work offline; "#q=TEXT&sev=high,critical" in the URL
// pre-fills them.
func writeHTML(w io.Writer, fs []finding.Finding, opts Options) error {
	page := htmlPage{
		Version:     opts.Version,
		Repository:  clean(opts.RepositoryURI),
		Revision:    clean(opts.Revision),
		ShowSecrets: opts.ShowSecrets,
		Total:       len(fs),
		Style:       template.CSS(htmlStyle),
		Script:      template.JS(htmlScript),
		CSP: "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; " +
			"style-src " + cspHash(htmlStyle) + "; script-src " + cspHash(htmlScript),
	}
	page.Title = "tokenward report: " + plural(len(fs), "finding", "findings")

	files, rules := map[string]bool{}, map[string]bool{}
	sevCount, statusCount := map[string]int{}, map[string]int{}
	for _, f := range fs {
		files[f.File] = true
		rules[f.RuleID] = true
		sevCount[sevName(f.Severity)]++
		if v := f.Verification; v != nil && v.Status != "" {
			statusCount[v.Status]++
		}
	}
	page.Files, page.Rules = len(files), len(rules)
	for _, s := range sortedKeys(sevCount, true) {
		page.Severities = append(page.Severities, htmlCount{s, sevCount[s]})
	}
	for _, s := range sortedKeys(statusCount, false) {
		page.Statuses = append(page.Statuses, htmlCount{s, statusCount[s]})
	}
	if s := opts.Summary; s != nil {
		page.Scan = append(page.Scan, summaryLine(fs, s, false))
		for _, p := range s.Problems {
			page.Problems = append(page.Problems, clean(p))
		}
		for i, sk := range s.Skipped {
			if i == maxHTMLSkipped {
				page.SkippedMore = len(s.Skipped) - i
				break
			}
			page.Skipped = append(page.Skipped, htmlField{Key: clean(sk.Path), Value: clean(sk.Reason)})
		}
	}

	// Group: severity, then rule, then file; findings keep Prepare's order
	// (file, position) within a file.
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(finding.SeverityRank(a.Severity), finding.SeverityRank(b.Severity)),
			cmp.Compare(sevName(a.Severity), sevName(b.Severity)),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.File, b.File),
		)
	})
	for _, f := range sorted {
		sev := sevName(f.Severity)
		if n := len(page.Groups); n == 0 || page.Groups[n-1].Name != sev {
			page.Groups = append(page.Groups, htmlSeverity{Name: sev})
		}
		g := &page.Groups[len(page.Groups)-1]
		g.Count++
		if n := len(g.Rules); n == 0 || g.Rules[n-1].ID != clean(f.RuleID) {
			g.Rules = append(g.Rules, htmlRule{ID: clean(f.RuleID), Description: clean(f.Description)})
		}
		r := &g.Rules[len(g.Rules)-1]
		r.Count++
		if n := len(r.Files); n == 0 || r.Files[n-1].Path != clean(f.File) {
			r.Files = append(r.Files, htmlFile{Path: clean(f.File)})
		}
		file := &r.Files[len(r.Files)-1]
		file.Findings = append(file.Findings, htmlEntry(f, sev, opts))
	}

	bw := bufio.NewWriter(w)
	pw := &plusWriter{w: bw}
	if err := htmlTemplate.Execute(pw, page); err != nil {
		return err
	}
	if err := pw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// plusWriter turns html/template's "&#43;" back into "+". A "+" needs no
// escaping in UTF-8 HTML text or quoted attributes (html/template escapes it
// against UTF-7 sniffing; the page declares UTF-8), and written as is, a secret
// holding "+" keeps the form the output guard's redaction looks for. A "&#43;"
// in the data itself is written "&amp;#43;", so it is never touched.
type plusWriter struct {
	w    io.Writer
	tail []byte // a possible start of "&#43;" held back from the last write
}

const escapedPlus = "&#43;"

func (p *plusWriter) Write(b []byte) (int, error) {
	n := len(b)
	buf := append(p.tail, b...)
	p.tail = nil
	out := bytes.ReplaceAll(buf, []byte(escapedPlus), []byte("+"))
	// Hold back a suffix that could begin "&#43;" in the next write.
	for k := min(len(escapedPlus)-1, len(out)); k > 0; k-- {
		if bytes.HasSuffix(out, []byte(escapedPlus[:k])) {
			p.tail = append([]byte(nil), out[len(out)-k:]...)
			out = out[:len(out)-k]
			break
		}
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}

// Flush writes what Write held back.
func (p *plusWriter) Flush() error {
	_, err := p.w.Write(p.tail)
	p.tail = nil
	return err
}

// maxHTMLSkipped bounds the list of files not scanned (a repository of
// binaries can skip many); the json and jsonl reports list them all.
const maxHTMLSkipped = 1000

// htmlEntry turns one prepared finding into its row.
func htmlEntry(f finding.Finding, sev string, opts Options) htmlFinding {
	shown := f.Redacted
	if opts.ShowSecrets && f.Secret != "" {
		shown = f.Secret
	}
	e := htmlFinding{
		Severity:    sev,
		Kind:        clean(f.Kind),
		Location:    fmt.Sprintf("%d:%d", f.Line, f.Column),
		Shown:       clean(shown),
		Message:     clean(f.Message),
		Encoding:    clean(f.Encoding),
		Commit:      clean(f.Commit),
		Author:      author(f),
		Date:        clean(f.Date),
		Fingerprint: clean(f.Fingerprint),
		Tags:        clean(strings.Join(f.Tags, ", ")),
	}
	if f.Entropy != 0 {
		e.Entropy = strconv.FormatFloat(f.Entropy, 'f', 2, 64)
	}
	ctx := contextLine(f, shown)
	if i := strings.Index(ctx, e.Shown); e.Shown != "" && i >= 0 {
		e.Before, e.Match, e.After = ctx[:i], e.Shown, ctx[i+len(e.Shown):]
	} else {
		e.Before = ctx
	}
	if v := f.Verification; v != nil && v.Status != "" {
		hv := &htmlVerification{Status: clean(v.Status), HTTP: v.HTTPStatus, CheckedAt: clean(v.CheckedAt),
			Detail: clean(v.Detail), Access: accessFields(v)}
		switch v.Status {
		case finding.StatusLive:
			hv.Class = "live"
		case finding.StatusInvalid, finding.StatusRevoked:
			hv.Class = "invalid"
		default:
			hv.Class = "other"
		}
		e.Verify = hv
	}
	// Not lower-cased here: the page must hold values byte for byte as found,
	// so a final redaction of the output still recognises them.
	e.Search = strings.Join([]string{sev, f.RuleID, f.Description, f.File, e.Location,
		e.Kind, e.Shown, ctx, e.Message, e.Encoding, e.Commit, e.Author, e.Date, e.Tags, e.Fingerprint,
		verifyText(e.Verify)}, " ")
	return e
}

func verifyText(v *htmlVerification) string {
	if v == nil {
		return ""
	}
	parts := []string{v.Status, v.Detail}
	for _, a := range v.Access {
		parts = append(parts, a.Key, a.Value)
	}
	return strings.Join(parts, " ")
}

// accessFields reads the "access" object of a verification's JSON form (what
// the credential grants: identity, scopes, resources...), whatever fields the
// verifier filled in, as sorted key/value pairs.
func accessFields(v *finding.Verification) []htmlField {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return accessFromJSON(b)
}

// accessFromJSON reads the "access" object of a verification in JSON.
func accessFromJSON(b []byte) []htmlField {
	var m struct {
		Access map[string]any `json:"access"`
	}
	if json.Unmarshal(b, &m) != nil || len(m.Access) == 0 {
		return nil
	}
	var out []htmlField
	for _, k := range sortedKeys(m.Access, false) {
		out = append(out, htmlField{Key: clean(k), Value: clean(accessValue(m.Access[k]))})
	}
	return out
}

func accessValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = accessValue(e)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sevName(s string) string {
	s = strings.ToLower(clean(s))
	if s == "" {
		return "unknown"
	}
	return s
}

// sortedKeys returns m's keys, by severity rank first when bySeverity.
func sortedKeys[V any](m map[string]V, bySeverity bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if bySeverity {
		sortSeverities(keys)
	} else {
		slices.Sort(keys)
	}
	return keys
}

// cspHash is the Content-Security-Policy source allowing exactly this inline text.
func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

var htmlTemplate = template.Must(template.New("html").Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>tokenward report</h1>
<p class="meta">{{if .Version}}tokenward {{.Version}}{{end}}{{if .Repository}} · {{.Repository}}{{end}}{{if .Revision}} @ {{.Revision}}{{end}}{{if .ShowSecrets}} · <strong class="warn">secrets shown unredacted</strong>{{else}} · secrets redacted{{end}}</p>
</header>
<section id="summary" aria-label="Summary">
<div class="cards">
<div class="card total"><span class="n" id="total">{{.Total}}</span> findings</div>
{{range .Severities}}<div class="card sev-{{.Name}}"><span class="n">{{.Count}}</span> {{.Name}}</div>
{{end}}<div class="card"><span class="n">{{.Rules}}</span> rules</div>
<div class="card"><span class="n">{{.Files}}</span> files</div>
{{range .Statuses}}<div class="card status-{{.Name}}"><span class="n">{{.Count}}</span> {{.Name}}</div>
{{end}}</div>
{{range .Scan}}<p class="scan">{{.}}</p>
{{end}}{{if .Problems}}<div class="problems"><strong>Scan incomplete:</strong><ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul></div>
{{end}}{{if .Skipped}}<details class="skipped"><summary>Not scanned: {{len .Skipped}}{{if .SkippedMore}} of {{.SkippedTotal}}{{end}}</summary><ul>{{range .Skipped}}<li><code>{{.Key}}</code> {{.Value}}</li>{{end}}</ul>{{if .SkippedMore}}<p>… and {{.SkippedMore}} more (the json and jsonl reports list every one)</p>{{end}}</details>
{{end}}</section>
{{if .Groups}}<section id="controls" aria-label="Filter">
<label>Search <input id="q" type="search" placeholder="rule, file, commit, author, status…" autocomplete="off"></label>
<span class="sevs">{{range .Severities}}<label class="sev-{{.Name}}"><input type="checkbox" name="sev" value="{{.Name}}" checked> {{.Name}}</label>
{{end}}</span>
<span id="status" aria-live="polite">{{.Total}} findings</span>
</section>
<main id="findings">
{{range .Groups}}<section class="severity" data-group="severity" data-sev="{{.Name}}">
<h2 class="sev-{{.Name}}">{{.Name}} <span class="count">{{.Count}}</span></h2>
{{range .Rules}}<details class="rule" data-group="rule" open>
<summary><code>{{.ID}}</code> {{.Description}} <span class="count">{{.Count}}</span></summary>
{{range .Files}}<div class="file" data-group="file">
<h3>{{.Path}}</h3>
{{range .Findings}}<article class="finding" data-sev="{{.Severity}}" data-q="{{.Search}}">
<div class="head"><span class="loc">{{.Location}}</span> <code class="secret">{{.Shown}}</code>{{if eq .Kind "hygiene"}} <span class="tag">hygiene</span>{{end}}{{if .Encoding}} <span class="tag">decoded from {{.Encoding}}</span>{{end}}{{with .Verify}} <span class="verify {{.Class}}">{{.Status}}{{if .HTTP}} (HTTP {{.HTTP}}){{end}}</span>{{end}}</div>
{{if or .Before .Match}}<pre class="context">{{.Before}}<mark>{{.Match}}</mark>{{.After}}</pre>{{end}}
{{if .Message}}<p class="message">{{.Message}}</p>{{end}}
<dl>
{{if .Commit}}<dt>commit</dt><dd><code>{{.Commit}}</code></dd>{{end}}
{{if .Author}}<dt>author</dt><dd>{{.Author}}</dd>{{end}}
{{if .Date}}<dt>date</dt><dd>{{.Date}}</dd>{{end}}
{{with .Verify}}<dt>verification</dt><dd>{{.Status}}{{if .HTTP}}, HTTP {{.HTTP}}{{end}}{{if .CheckedAt}}, checked {{.CheckedAt}}{{end}}{{if .Detail}}: {{.Detail}}{{end}}</dd>
{{if .Access}}<dt>access</dt><dd class="access">{{range .Access}}<span><b>{{.Key}}</b> {{.Value}}</span> {{end}}</dd>{{end}}{{end}}
{{if .Entropy}}<dt>entropy</dt><dd>{{.Entropy}}</dd>{{end}}
{{if .Tags}}<dt>tags</dt><dd>{{.Tags}}</dd>{{end}}
<dt>fingerprint</dt><dd><code>{{.Fingerprint}}</code></dd>
</dl>
</article>
{{end}}</div>
{{end}}</details>
{{end}}</section>
{{end}}<p id="none" hidden>No finding matches the search.</p>
</main>
{{else}}<main id="findings"><p class="clean">No findings.</p></main>
{{end}}<script>{{.Script}}</script>
</body>
</html>
`

const htmlStyle = `
:root{--bg:#fff;--fg:#1d2330;--mute:#5b6474;--line:#d9dee7;--card:#f4f6fa;--crit:#8b0000;--high:#c62828;--med:#b26a00;--low:#1f6fb2;--info:#5b6474}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:16px 24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{margin:0;font-size:22px}
h2{font-size:18px;margin:20px 0 8px;padding-bottom:4px;border-bottom:2px solid currentColor;text-transform:capitalize}
h3{font-size:14px;margin:10px 0 6px;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.meta,.scan{color:var(--mute);margin:4px 0}
.warn{color:var(--high)}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:90px}
.card .n{display:block;font-size:20px;font-weight:600}
.problems{border:1px solid var(--med);background:#fff7e6;border-radius:6px;padding:8px 12px}
.skipped{margin:6px 0;color:var(--mute)}.skipped summary{cursor:pointer}.skipped li code{color:var(--fg)}
#controls{position:sticky;top:0;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:12px;align-items:center;z-index:1}
#q{width:320px;padding:5px 8px;font:inherit;border:1px solid var(--line);border-radius:4px}
.sevs label{margin-right:8px;text-transform:capitalize}
#status{margin-left:auto;color:var(--mute)}
details.rule{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:4px 12px}
details.rule>summary{cursor:pointer;padding:4px 0;font-weight:600}
.count{display:inline-block;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:0 8px;font-size:12px;font-weight:400;color:var(--mute)}
.finding{border-top:1px solid var(--line);padding:8px 0}
.head{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.loc{font-family:ui-monospace,Menlo,Consolas,monospace;color:var(--mute)}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.secret{background:#fdecea;padding:1px 4px;border-radius:3px}
.context{background:var(--card);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:6px 0;white-space:pre-wrap;word-break:break-all;font-size:13px}
mark{background:#ffe08a}
.tag,.verify{font-size:12px;border-radius:10px;padding:0 8px;border:1px solid var(--line)}
.verify.live{background:var(--high);color:#fff;border-color:var(--high)}
.verify.invalid{background:#e8f5e9;color:#2e7d32}
.verify.other{background:var(--card)}
.message{margin:4px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0;font-size:13px}
dt{color:var(--mute)}
dd{margin:0;word-break:break-all}
.access span{margin-right:10px}
.sev-critical{color:var(--crit)}.sev-high{color:var(--high)}.sev-medium{color:var(--med)}.sev-low{color:var(--low)}.sev-info,.sev-unknown{color:var(--info)}
.card.sev-critical,.card.sev-high,.card.sev-medium,.card.sev-low{border-left:4px solid currentColor}
.clean{font-size:16px;color:#2e7d32}
[hidden]{display:none!important}
@media print{#controls{display:none}details.rule{break-inside:avoid}}
`

const htmlScript = `
(function () {
  "use strict";
  var q = document.getElementById("q");
  if (!q) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=sev]"));
  var findings = Array.prototype.slice.call(document.querySelectorAll(".finding"));
  var texts = findings.map(function (f) { return (f.getAttribute("data-q") || "").toLowerCase(); });
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-group]"));
  var status = document.getElementById("status");
  var none = document.getElementById("none");
  var total = findings.length;

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (params.has("q")) { q.value = params.get("q"); }
    if (params.has("sev")) {
      var want = params.get("sev").toLowerCase().split(",");
      boxes.forEach(function (b) { b.checked = want.indexOf(b.value) >= 0; });
    }
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (q.value) { params.set("q", q.value); }
    var on = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (on.length !== boxes.length) { params.set("sev", on.join(",")); }
    var h = params.toString();
    if (h !== location.hash.replace(/^#/, "")) {
      history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
    }
  }

  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var shown = 0;
    findings.forEach(function (f, i) {
      var text = texts[i];
      var ok = on[f.getAttribute("data-sev")] !== false && terms.every(function (t) { return text.indexOf(t) >= 0; });
      f.hidden = !ok;
      if (ok) { shown++; }
    });
    groups.forEach(function (g) {
      var n = g.querySelectorAll(".finding:not([hidden])").length;
      g.hidden = n === 0;
      var c = g.querySelector(":scope > h2 > .count, :scope > summary > .count");
      if (c) { c.textContent = String(n); }
    });
    none.hidden = shown !== 0;
    status.textContent = shown + " of " + total + " findings match";
    document.documentElement.setAttribute("data-shown", String(shown));
  }

  q.addEventListener("input", function () { apply(); writeHash(); });
  boxes.forEach(function (b) { b.addEventListener("change", function () { apply(); writeHash(); }); });
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  readHash();
  apply();
}());
`
