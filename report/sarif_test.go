package report

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenward/tokenward/finding"
)

// The SARIF 2.1.0 schema (sarif-schema-2.1.0.json) closes every object with
// additionalProperties: false. These are the property names it allows and
// requires for the objects tokenward writes; checkSARIF walks a log against them,
// plus the extra constraints GitHub code scanning applies on upload.
var sarifObjects = map[string]struct{ allowed, required []string }{
	"log": {[]string{"$schema", "version", "runs", "inlineExternalProperties", "properties"}, []string{"version", "runs"}},
	"run": {[]string{"tool", "invocations", "conversion", "language", "versionControlProvenance", "originalUriBaseIds",
		"artifacts", "logicalLocations", "graphs", "results", "automationDetails", "runAggregates", "baselineGuid",
		"redactionTokens", "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
		"externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses", "translations", "policies",
		"webRequests", "webResponses", "specialLocations", "properties"}, []string{"tool"}},
	"tool": {[]string{"driver", "extensions", "properties"}, []string{"driver"}},
	"toolComponent": {[]string{"guid", "name", "organization", "product", "productSuite", "shortDescription",
		"fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion", "releaseDateUtc",
		"downloadUri", "informationUri", "globalMessageStrings", "notifications", "rules", "taxa", "locations",
		"language", "contents", "isComprehensive", "localizedDataSemanticVersion",
		"minimumRequiredLocalizedDataSemanticVersion", "associatedComponent", "translationMetadata",
		"supportedTaxonomies", "properties"}, []string{"name"}},
	"reportingDescriptor": {[]string{"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
		"shortDescription", "fullDescription", "messageStrings", "defaultConfiguration", "helpUri", "help",
		"relationships", "properties"}, []string{"id"}},
	"multiformatMessageString": {[]string{"text", "markdown", "properties"}, []string{"text"}},
	"reportingConfiguration":   {[]string{"enabled", "level", "rank", "parameters", "properties"}, nil},
	"result": {[]string{"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget", "locations",
		"guid", "correlationGuid", "occurrenceCount", "partialFingerprints", "fingerprints", "stacks", "codeFlows",
		"graphs", "graphTraversals", "relatedLocations", "suppressions", "baselineState", "rank", "attachments",
		"hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa", "webRequest", "webResponse", "properties"},
		[]string{"message"}},
	"message":          {[]string{"text", "markdown", "id", "arguments", "properties"}, nil},
	"location":         {[]string{"id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"}, nil},
	"physicalLocation": {[]string{"address", "artifactLocation", "region", "contextRegion", "properties"}, nil},
	"artifactLocation": {[]string{"uri", "uriBaseId", "index", "description", "properties"}, nil},
	"region": {[]string{"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength", "byteOffset",
		"byteLength", "snippet", "message", "sourceLanguage", "properties"}, nil},
	"invocation": {[]string{"commandLine", "arguments", "responseFiles", "startTimeUtc", "endTimeUtc", "exitCode",
		"ruleConfigurationOverrides", "notificationConfigurationOverrides", "toolExecutionNotifications",
		"toolConfigurationNotifications", "exitCodeDescription", "exitSignalName", "exitSignalNumber",
		"processStartFailureMessage", "executionSuccessful", "machine", "account", "processId", "executableLocation",
		"workingDirectory", "environmentVariables", "stdin", "stdout", "stderr", "stdoutStderr", "properties"},
		[]string{"executionSuccessful"}},
	"notification": {[]string{"locations", "message", "level", "threadId", "timeUtc", "exception", "descriptor",
		"associatedRule", "properties"}, []string{"message"}},
	"versionControlDetails": {[]string{"repositoryUri", "revisionId", "branch", "revisionTag", "asOfTimeUtc",
		"mappedTo", "properties"}, []string{"repositoryUri"}},
}

var sarifLevels = []string{"none", "note", "warning", "error"}

type sarifChecker struct {
	t *testing.T
}

func (c sarifChecker) obj(path string, v any, kind string) map[string]any {
	c.t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		c.t.Errorf("%s: want a %s object, got %T", path, kind, v)
		return map[string]any{}
	}
	shape, ok := sarifObjects[kind]
	if !ok {
		c.t.Fatalf("test bug: unknown SARIF object kind %q", kind)
	}
	for k := range m {
		if !slices.Contains(shape.allowed, k) {
			c.t.Errorf("%s: property %q is not allowed in a SARIF %s", path, k, kind)
		}
	}
	for _, k := range shape.required {
		if _, ok := m[k]; !ok {
			c.t.Errorf("%s: required property %q missing from %s", path, k, kind)
		}
	}
	if p, ok := m["properties"]; ok {
		c.propertyBag(path+".properties", p)
	}
	return m
}

func (c sarifChecker) arr(path string, v any) []any {
	c.t.Helper()
	a, ok := v.([]any)
	if !ok {
		c.t.Errorf("%s: want an array, got %T (%v)", path, v, v)
	}
	return a
}

func (c sarifChecker) str(path string, v any) string {
	c.t.Helper()
	s, ok := v.(string)
	if !ok {
		c.t.Errorf("%s: want a string, got %T", path, v)
	}
	return s
}

func (c sarifChecker) integer(path string, v any, min int) int {
	c.t.Helper()
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) || int(f) < min {
		c.t.Errorf("%s: want an integer >= %d, got %v", path, min, v)
	}
	return int(f)
}

func (c sarifChecker) propertyBag(path string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.t.Errorf("%s: property bag must be an object", path)
		return
	}
	if tags, ok := m["tags"]; ok {
		seen := map[string]bool{}
		for i, tg := range c.arr(path+".tags", tags) {
			s := c.str(path+".tags["+strconv.Itoa(i)+"]", tg)
			if seen[s] {
				c.t.Errorf("%s.tags: duplicate %q (schema requires unique items)", path, s)
			}
			seen[s] = true
		}
		if len(seen) > 20 {
			c.t.Errorf("%s.tags: %d tags, GitHub accepts at most 20", path, len(seen))
		}
	}
}

func (c sarifChecker) multiformat(path string, v any) {
	m := c.obj(path, v, "multiformatMessageString")
	if c.str(path+".text", m["text"]) == "" {
		c.t.Errorf("%s.text is empty", path)
	}
}

func (c sarifChecker) absURI(path string, v any) {
	s := c.str(path, v)
	if u, err := url.Parse(s); err != nil || !u.IsAbs() {
		c.t.Errorf("%s: %q is not an absolute URI", path, s)
	}
}

// checkSARIF validates out as a SARIF 2.1.0 log GitHub code scanning accepts and
// returns the decoded run.
func checkSARIF(t *testing.T, out string, wantFindings []finding.Finding) map[string]any {
	t.Helper()
	c := sarifChecker{t}
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("SARIF does not parse: %v", err)
	}
	log := c.obj("$", doc, "log")
	if got := log["$schema"]; got != sarifSchema {
		t.Errorf("$schema = %v", got)
	}
	c.absURI("$.$schema", log["$schema"])
	if log["version"] != "2.1.0" {
		t.Errorf("version = %v, want 2.1.0", log["version"])
	}
	runs := c.arr("$.runs", log["runs"])
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	run := c.obj("$.runs[0]", runs[0], "run")
	if ck, ok := run["columnKind"]; ok && !slices.Contains([]string{"utf16CodeUnits", "unicodeCodePoints"}, c.str("columnKind", ck)) {
		t.Errorf("columnKind = %v", ck)
	}
	tool := c.obj("$.runs[0].tool", run["tool"], "tool")
	driver := c.obj("$.runs[0].tool.driver", tool["driver"], "toolComponent")
	if driver["name"] != "tokenward" {
		t.Errorf("driver.name = %v", driver["name"])
	}
	c.absURI("driver.informationUri", driver["informationUri"])
	var ruleIDs []string
	for i, r := range c.arr("driver.rules", driver["rules"]) {
		p := "driver.rules[" + strconv.Itoa(i) + "]"
		rule := c.obj(p, r, "reportingDescriptor")
		id := c.str(p+".id", rule["id"])
		if slices.Contains(ruleIDs, id) {
			t.Errorf("%s: duplicate rule id %q", p, id)
		}
		ruleIDs = append(ruleIDs, id)
		if c.str(p+".name", rule["name"]) == "" {
			t.Errorf("%s: empty name", p)
		}
		c.multiformat(p+".shortDescription", rule["shortDescription"])
		c.multiformat(p+".fullDescription", rule["fullDescription"])
		c.multiformat(p+".help", rule["help"])
		if help, _ := rule["help"].(map[string]any); help["markdown"] == nil {
			t.Errorf("%s.help.markdown missing", p)
		}
		if u, ok := rule["helpUri"]; ok {
			c.absURI(p+".helpUri", u)
		}
		conf := c.obj(p+".defaultConfiguration", rule["defaultConfiguration"], "reportingConfiguration")
		if !slices.Contains(sarifLevels, c.str(p+".defaultConfiguration.level", conf["level"])) {
			t.Errorf("%s.defaultConfiguration.level = %v", p, conf["level"])
		}
		props, _ := rule["properties"].(map[string]any)
		if props == nil || props["tags"] == nil {
			t.Errorf("%s.properties.tags missing", p)
		} else if !slices.Contains(c.arr(p+".properties.tags", props["tags"]), any("security")) {
			t.Errorf("%s.properties.tags lacks \"security\" (GitHub needs it to treat security-severity)", p)
		}
		if ss, ok := props["security-severity"]; ok {
			f, err := strconv.ParseFloat(c.str(p+".security-severity", ss), 64)
			if err != nil || f < 0 || f > 10 {
				t.Errorf("%s: security-severity %v is not a number in 0..10", p, ss)
			}
		}
	}
	if !slices.IsSorted(ruleIDs) {
		t.Errorf("rules not sorted by id: %v", ruleIDs)
	}

	results := c.arr("$.runs[0].results", run["results"])
	if len(results) != len(wantFindings) {
		t.Fatalf("%d results, want %d", len(results), len(wantFindings))
	}
	for i, r := range results {
		p := "results[" + strconv.Itoa(i) + "]"
		res := c.obj(p, r, "result")
		id := c.str(p+".ruleId", res["ruleId"])
		idx := c.integer(p+".ruleIndex", res["ruleIndex"], 0)
		if idx >= len(ruleIDs) || ruleIDs[idx] != id {
			t.Errorf("%s: ruleIndex %d does not point at rule %q", p, idx, id)
		}
		if !slices.Contains(sarifLevels, c.str(p+".level", res["level"])) {
			t.Errorf("%s.level = %v", p, res["level"])
		}
		msg := c.obj(p+".message", res["message"], "message")
		if c.str(p+".message.text", msg["text"]) == "" {
			t.Errorf("%s.message.text empty", p)
		}
		locs := c.arr(p+".locations", res["locations"])
		if len(locs) != 1 {
			t.Fatalf("%s: %d locations, GitHub needs one", p, len(locs))
		}
		loc := c.obj(p+".locations[0]", locs[0], "location")
		phys := c.obj(p+".physicalLocation", loc["physicalLocation"], "physicalLocation")
		art := c.obj(p+".artifactLocation", phys["artifactLocation"], "artifactLocation")
		uri := c.str(p+".uri", art["uri"])
		u, err := url.Parse(uri)
		if err != nil || u.IsAbs() || strings.ContainsAny(uri, ` \#?`) || strings.HasPrefix(uri, "/") {
			t.Errorf("%s: uri %q is not a clean relative URI reference (%v)", p, uri, err)
		}
		want := wantFindings[i]
		if u != nil && u.Path != strings.TrimPrefix(want.File, "./") {
			t.Errorf("%s: uri %q decodes to %q, want %q", p, uri, u.Path, want.File)
		}
		if want.Line > 0 {
			reg := c.obj(p+".region", phys["region"], "region")
			sl := c.integer(p+".region.startLine", reg["startLine"], 1)
			sc := c.integer(p+".region.startColumn", reg["startColumn"], 1)
			el := c.integer(p+".region.endLine", reg["endLine"], sl)
			ec := c.integer(p+".region.endColumn", reg["endColumn"], 1)
			if sl != want.Line || sc != want.Column || el != want.EndLine || ec != want.EndColumn {
				t.Errorf("%s: region %d:%d-%d:%d, want %d:%d-%d:%d", p, sl, sc, el, ec,
					want.Line, want.Column, want.EndLine, want.EndColumn)
			}
		}
		pf, _ := res["partialFingerprints"].(map[string]any)
		if pf[FingerprintKey] != want.Fingerprint {
			t.Errorf("%s: partialFingerprints[%s] = %v, want %s", p, FingerprintKey, pf[FingerprintKey], want.Fingerprint)
		}
		for k, v := range pf {
			if c.str(p+".partialFingerprints."+k, v) == "" {
				t.Errorf("%s: empty partial fingerprint %s", p, k)
			}
		}
		props, _ := res["properties"].(map[string]any)
		if want.Commit != "" {
			for _, k := range []string{"commit", "author", "date"} {
				if props[k] == nil {
					t.Errorf("%s: history finding lacks properties.%s", p, k)
				}
			}
		} else if props["commit"] != nil {
			t.Errorf("%s: file finding has properties.commit", p)
		}
	}
	if inv, ok := run["invocations"]; ok {
		for i, x := range c.arr("invocations", inv) {
			m := c.obj("invocations["+strconv.Itoa(i)+"]", x, "invocation")
			if n, ok := m["toolExecutionNotifications"]; ok {
				for j, y := range c.arr("toolExecutionNotifications", n) {
					nm := c.obj("notification["+strconv.Itoa(j)+"]", y, "notification")
					c.obj("notification.message", nm["message"], "message")
				}
			}
		}
	}
	if vcp, ok := run["versionControlProvenance"]; ok {
		for i, x := range c.arr("versionControlProvenance", vcp) {
			m := c.obj("versionControlProvenance["+strconv.Itoa(i)+"]", x, "versionControlDetails")
			c.absURI("repositoryUri", m["repositoryUri"])
		}
	}
	return run
}

func TestSARIF(t *testing.T) {
	rules := []RuleInfo{
		{ID: "github-pat", Description: "GitHub personal access token", Severity: "high",
			HelpURI: "https://docs.github.com/authentication", Tags: []string{"github", "security"}},
		{ID: "never-used", Description: "unused rule", Severity: "low"},
	}
	fs := sample()
	out := write(t, fs, Options{Format: "sarif", Version: "1.2.3", Rules: rules,
		Summary: &Summary{Files: 4, Problems: []string{"x: unreadable"}}})
	want := Prepare(fs, false)
	run := checkSARIF(t, out, want)

	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["version"] != "1.2.3" {
		t.Errorf("driver.version = %v", driver["version"])
	}
	var ids []string
	for _, r := range driver["rules"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if !slices.Equal(ids, []string{"aws-secret-key", "github-pat", "token-in-url"}) {
		t.Errorf("rules = %v: want only referenced rules, sorted", ids)
	}
	gh := driver["rules"].([]any)[1].(map[string]any)
	if gh["helpUri"] != "https://docs.github.com/authentication" || gh["name"] != "GithubPat" {
		t.Errorf("github-pat rule = %v", gh)
	}
	if tags := gh["properties"].(map[string]any)["tags"]; !slices.Equal(toStrings(tags), []string{"github", "secret", "security"}) {
		t.Errorf("github-pat tags = %v", tags)
	}
	if lvl := gh["defaultConfiguration"].(map[string]any)["level"]; lvl != "error" {
		t.Errorf("github-pat default level = %v", lvl)
	}
	hyg := driver["rules"].([]any)[2].(map[string]any)
	if tags := toStrings(hyg["properties"].(map[string]any)["tags"]); !slices.Contains(tags, "hygiene") {
		t.Errorf("hygiene rule tags = %v", tags)
	}

	results := run["results"].([]any)
	levels := []string{"warning", "error", "error", "note"}
	for i, r := range results {
		if got := r.(map[string]any)["level"]; got != levels[i] {
			t.Errorf("result %d level = %v, want %v", i, got, levels[i])
		}
	}
	odd := results[3].(map[string]any)
	uri := odd["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)["artifactLocation"].(map[string]any)["uri"]
	if uri != "dir%20with%20space/we,ird:na%25me%231.env" {
		t.Errorf("escaped uri = %v", uri)
	}
	inv := run["invocations"].([]any)[0].(map[string]any)
	if inv["executionSuccessful"] != false {
		t.Errorf("a scan with problems must report executionSuccessful=false")
	}
	if _, ok := run["versionControlProvenance"]; ok {
		t.Errorf("versionControlProvenance without a repository URI")
	}
}

func TestSARIFProvenance(t *testing.T) {
	fs := sample()[2:3] // the history finding
	tests := []struct {
		name, repo, rev string
		want            map[string]any
	}{
		{"no repository", "", "", nil},
		{"not a URI", "git@github.com:o/r.git", "", nil},
		{"commit from findings", "https://github.com/o/r", "",
			map[string]any{"repositoryUri": "https://github.com/o/r", "revisionId": fs[0].Commit}},
		{"explicit revision", "https://github.com/o/r", "feedface",
			map[string]any{"repositoryUri": "https://github.com/o/r", "revisionId": "feedface"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := write(t, fs, Options{Format: "sarif", RepositoryURI: tt.repo, Revision: tt.rev})
			run := checkSARIF(t, out, Prepare(fs, false))
			vcp, ok := run["versionControlProvenance"].([]any)
			if tt.want == nil {
				if ok {
					t.Fatalf("unexpected versionControlProvenance %v", vcp)
				}
				return
			}
			if !ok || len(vcp) != 1 {
				t.Fatalf("versionControlProvenance = %v", run["versionControlProvenance"])
			}
			got := vcp[0].(map[string]any)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestSARIFRegions(t *testing.T) {
	base := finding.Finding{RuleID: "r", Severity: "high", File: "a.txt", Fingerprint: "sha256:00"}
	tests := []struct {
		name string
		edit func(*finding.Finding)
		want string // JSON of region, "" for none
	}{
		{"single line", func(f *finding.Finding) { f.Line, f.Column, f.EndLine, f.EndColumn = 3, 5, 3, 9 },
			`{"startLine":3,"startColumn":5,"endLine":3,"endColumn":9}`},
		{"empty span", func(f *finding.Finding) { f.Line, f.Column, f.EndLine, f.EndColumn = 3, 5, 3, 5 },
			`{"startLine":3,"startColumn":5,"endLine":3}`},
		{"multi line", func(f *finding.Finding) { f.Line, f.Column, f.EndLine, f.EndColumn = 3, 5, 5, 2 },
			`{"startLine":3,"startColumn":5,"endLine":5,"endColumn":2}`},
		{"line only", func(f *finding.Finding) { f.Line = 7 }, `{"startLine":7}`},
		{"whole file", func(f *finding.Finding) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base
			tt.edit(&f)
			p := physical(f)
			got := ""
			if p.Region != nil {
				b, _ := json.Marshal(p.Region)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("region = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a/b.txt", "a/b.txt"},
		{"./a/../b.txt", "b.txt"},
		{`dir\sub\x.env`, "dir/sub/x.env"},
		{"dir with space/x.env", "dir%20with%20space/x.env"},
		{"100%.txt", "100%25.txt"},
		{"#x?.txt", "%23x%3F.txt"},
		{"ü/ß.txt", "%C3%BC/%C3%9F.txt"},
		{"a:b/c", "./a:b/c"},
		{"/abs/p q", "file:///abs/p%20q"},
		{"C:/work/x", "file:///C:/work/x"},
		{"-", "-"},
		{"", "."},
		{"s3://acme/config/app.env", "s3://acme/config/app.env"},
		{"s3://acme/a//b c!m/x", "s3://acme/a//b%20c%21m/x"},
	}
	for _, tt := range tests {
		got := artifactURI(tt.in)
		if got != tt.want {
			t.Errorf("artifactURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if _, err := url.Parse(got); err != nil {
			t.Errorf("artifactURI(%q) = %q does not parse: %v", tt.in, got, err)
		}
	}
}

func TestRuleName(t *testing.T) {
	for in, want := range map[string]string{"github-pat": "GithubPat", "aws-secret-key": "AwsSecretKey", "jwt": "Jwt", "---": "Rule", "x_y.z": "XYZ"} {
		if got := ruleName(in); got != want {
			t.Errorf("ruleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
