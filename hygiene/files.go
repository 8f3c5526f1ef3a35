package hygiene

import (
	"bytes"
	"encoding/base64"
	"path"
	"strings"

	"github.com/tokenward/tokenward/hygiene/config"
	"github.com/tokenward/tokenward/shape"
)

// storeTags mark findings that say "a credential is stored here"; Review drops
// them when an engine secret finding covers the same text.
var storeTags = []string{"hygiene", "credential-store"}

// stored reports a credential stored in a file, with the message for a
// repository (committed) or for a host (--host-config).
func (d *doc) stored(rule string, start, end int, secret, what, fix string) {
	msg := what + " — a committed credential is exposed to everyone with access to the repository and its history: " +
		"remove it, rotate it, and load it at run time (" + fix + ")"
	sev := ""
	if d.host {
		msg = what + " in plain text on this machine; " + fix + ", and keep the file readable only by you (chmod 600)"
		sev = "medium"
	}
	d.add(issue{rule: rule, start: start, end: end, secret: secret, msg: msg, severity: sev, tags: storeTags[1:]})
}

func (c *Checker) checkFiles(d *doc, kind fileKind) {
	switch kind {
	case kindNetrc:
		c.checkNetrc(d)
	case kindNpmrc:
		c.checkNpmrc(d)
	case kindGitCredentials:
		c.checkGitCredentials(d)
	case kindDotenv:
		c.checkDotenv(d)
		return
	case kindPgpass:
		c.checkPgpass(d)
		return
	case kindHtpasswd:
		c.checkHtpasswd(d)
		return
	case kindShadow:
		c.checkShadow(d)
		return
	case kindMyCnf:
		c.checkMyCnf(d)
		return
	case kindDeployConfig:
		c.checkDeployConfig(d)
		return
	case kindRailsKey:
		c.checkRailsKey(d)
		return
	}
	format := config.FormatOf(d.path)
	switch {
	case d.format != config.Unknown:
		format = d.format
	case kind == kindKubeconfig:
		format = config.YAML
	case kind == kindDockerConfig:
		format = config.JSON
	case kind == kindPypirc, kind == kindGitConfig:
		format = config.INI
	}
	if format == config.Unknown || format == config.Dotenv {
		return
	}
	if int64(len(d.data)) > c.cfg.MaxConfigBytes {
		c.logf("hygiene: %s: %d bytes is over max_config_size (%d); %s key checks skipped", d.path, len(d.data), c.cfg.MaxConfigBytes, format)
		return
	}
	entries, err := config.ParseKeys(format, d.data, relevantKey)
	if err != nil {
		c.logf("hygiene: %s: %v; falling back to line rules", d.path, err)
		entries = config.Lines(d.data)
	}
	claimed := map[int]bool{}
	switch kind {
	case kindPypirc:
		c.checkPypirc(d, entries, claimed)
	case kindGitConfig:
		c.checkGitConfig(d, entries, claimed)
	}
	if format == config.JSON {
		c.checkDockerAuths(d, entries, claimed)
	}
	if format == config.YAML {
		c.checkKubeconfig(d, kind == kindKubeconfig, entries, claimed)
	}
	if kind == kindGitConfig || localeFile(d.path) || testPath(d.path) && !d.host {
		return // key names in test vectors and translations are not stored credentials
	}
	for i, e := range entries {
		if claimed[i] || !credentialPath(e.Path) || !configValue(e.Value) || !storedValue(e.Key(), e.Value) {
			continue
		}
		d.stored("config-credential-key", e.Start, e.End, e.Value,
			"config key "+e.PathString()+" holds a credential",
			"reference an environment variable or secret manager instead, e.g. ${"+EnvName(e.Key())+"}")
	}
}

// structuralKeys are keys the file-format checks read besides credential keys.
var structuralKeys = map[string]bool{
	"auth": true, "identitytoken": true, "registrytoken": true, "password": true, // Docker
	"kind": true, "name": true, "token": true, "client-key-data": true, "id-token": true, // kubeconfig
	"refresh-token": true, "client-secret": true, "access-token": true,
	"extraheader": true, "key": true, "keys": true,
}

// relevantKey selects the config entries any check looks at.
func relevantKey(k string) bool {
	return structuralKeys[strings.ToLower(k)] || CredentialKey(k)
}

// credentialPath judges a key path by its last key, qualified by its parent
// when the last key is a bare "key" (api.key, stripe.secret.key).
func credentialPath(p []string) bool {
	var keys []string
	for _, k := range p {
		if !strings.HasPrefix(k, "[") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return false
	}
	last := keys[len(keys)-1]
	if CredentialKey(last) {
		return true
	}
	if ws := KeyWords(last); len(ws) == 1 && (ws[0] == "key" || ws[0] == "keys") && len(keys) > 1 {
		return CredentialKey(keys[len(keys)-2] + "_key")
	}
	return false
}

// storedValue judges a config value under a credential key the way the engine
// judges a generic value: not a reference to a CI or store secret (from_secret:
// NAME, password_secret: DOCKERHUB_TOKEN), not words (unsecure_session_secret) or a
// weak stand-in (test1234), not a mask, a version range (a package.json dependency
// named after tokens), an encrypted ENC(...) value or a password hash, and not the
// key's own name repeated.
func storedValue(key, v string) bool {
	v = strings.TrimSpace(v)
	lk := strings.ToLower(key)
	switch {
	case lk == "from_secret" || strings.HasSuffix(lk, "_secret") && envName(v),
		strings.EqualFold(key, v),
		shape.Masked(v) || shape.Dummy(v) || shape.Weak(v) || shape.NaturalText(v),
		versionRange(v),
		strings.HasPrefix(v, "ENC(") && strings.HasSuffix(v, ")"),
		passwordHash(v):
		return false
	}
	return true
}

// envName reports an environment variable's name: DOCKERHUB_TOKEN, AWS_SECRET_ACCESS_KEY.
func envName(s string) bool {
	if len(s) < 3 || !strings.Contains(s, "_") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// versionRange reports a dependency version such as "^3.0.1", "~1.4" or ">=2.0".
func versionRange(s string) bool {
	s = strings.TrimLeft(s, "^~>=<v ")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	return strings.Trim(s, "0123456789.-+X*abcdefghijklmnopqrstuvwxyz") == "" && strings.Count(s, ".") >= 1 && len(s) <= 32
}

// passwordHash reports a crypt(3) or framework password hash: $6$..., $2b$...,
// sha1$salt$digest, pbkdf2_sha256$..., {SSHA}...
func passwordHash(s string) bool {
	if strings.HasPrefix(s, "{") {
		i := strings.IndexByte(s, '}')
		return i > 1 && i < 12 && strings.ToUpper(s[1:i]) == s[1:i]
	}
	if strings.HasPrefix(s, "$") {
		return strings.Count(s, "$") >= 3
	}
	if i := strings.IndexByte(s, '$'); i > 0 && strings.Count(s, "$") >= 2 {
		algo := strings.ToLower(s[:i])
		for _, a := range []string{"sha1", "sha256", "sha512", "md5", "pbkdf2", "bcrypt", "argon2", "scrypt"} {
			if strings.HasPrefix(algo, a) {
				return true
			}
		}
	}
	return false
}

// configValue is CredentialValue plus a guard against UI strings: a value made
// only of letters must be long to count.
func configValue(v string) bool {
	if !CredentialValue(v) {
		return false
	}
	letters := true
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == ' ') {
			letters = false
			break
		}
	}
	return !letters || len(v) >= 20
}

// testPath reports test fixture trees, whose configs hold test vectors; the
// engine's token rules still cover real credentials there.
func testPath(p string) bool {
	l := "/" + strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	for _, dir := range []string{"/testdata/", "/test/", "/tests/", "/fixtures/", "/__tests__/", "/spec/", "/__fixtures__/"} {
		if strings.Contains(l, dir) {
			return true
		}
	}
	return false
}

// localeFile reports translation catalogues, whose "password" keys are labels.
func localeFile(p string) bool {
	l := "/" + strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	for _, dir := range []string{"/locales/", "/locale/", "/i18n/", "/l10n/", "/lang/", "/langs/", "/translations/", "/messages/"} {
		if strings.Contains(l, dir) {
			return true
		}
	}
	return false
}

// EnvName turns a key into an environment variable name: dbPassword -> DB_PASSWORD.
func EnvName(key string) string {
	ws := KeyWords(key)
	if len(ws) == 0 {
		return "SECRET"
	}
	return strings.ToUpper(strings.Join(ws, "_"))
}

// checkNetrc reads `machine H login U password P` token streams.
func (c *Checker) checkNetrc(d *doc) {
	toks := fields(d.data)
	machine := "default"
	for i := 0; i < len(toks); i++ {
		switch string(d.data[toks[i][0]:toks[i][1]]) {
		case "machine":
			if i+1 < len(toks) {
				machine = string(d.data[toks[i+1][0]:toks[i+1][1]])
			}
		case "default":
			machine = "default"
		case "macdef":
			// a macro runs to the next blank line
			end := bytes.Index(d.data[toks[i][1]:], []byte("\n\n"))
			if end < 0 {
				return
			}
			end += toks[i][1]
			for i+1 < len(toks) && toks[i+1][0] < end {
				i++
			}
		case "password", "passwd":
			if i+1 >= len(toks) {
				continue
			}
			s, e := toks[i+1][0], toks[i+1][1]
			v := string(d.data[s:e])
			if Placeholder(v) {
				continue
			}
			d.stored("netrc-password", s, e, v, ".netrc holds the password for machine "+machine,
				"use a credential helper or an environment variable instead")
			i++
		}
	}
}

// fields returns the byte spans of whitespace-separated tokens (netrc allows
// double-quoted tokens).
func fields(b []byte) [][2]int {
	var out [][2]int
	for i := 0; i < len(b); {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		if i >= len(b) {
			break
		}
		if b[i] == '#' && (i == 0 || b[i-1] == '\n') {
			for i < len(b) && b[i] != '\n' {
				i++
			}
			continue
		}
		if b[i] == '"' {
			j := bytes.IndexByte(b[i+1:], '"')
			if j >= 0 {
				out = append(out, [2]int{i + 1, i + 1 + j})
				i += j + 2
				continue
			}
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// checkNpmrc reads `//registry/:_authToken=…`, `_auth=…`, `_password=…`
// (and yarn v1's `"//registry/:_authToken" value`).
func (c *Checker) checkNpmrc(d *doc) {
	forEachLine(d.data, func(lo, hi int) {
		line := d.data[lo:hi]
		t := bytes.TrimLeft(line, " \t")
		if len(t) == 0 || t[0] == '#' || t[0] == ';' {
			return
		}
		ind := len(line) - len(t)
		sep := bytes.IndexByte(t, '=')
		if sep < 0 {
			sep = bytes.IndexAny(t, " \t")
		}
		if sep < 0 {
			return
		}
		key := strings.Trim(strings.TrimSpace(string(t[:sep])), `"`)
		name := key
		if k := strings.LastIndexByte(key, ':'); k >= 0 {
			name = key[k+1:]
		}
		switch strings.ToLower(name) {
		case "_authtoken", "_auth", "_password", "npmauthtoken", "npmauthident":
		default:
			return
		}
		vs := lo + ind + sep + 1
		for vs < hi && (d.data[vs] == ' ' || d.data[vs] == '\t' || d.data[vs] == '"') {
			vs++
		}
		ve := hi
		for ve > vs && (d.data[ve-1] == ' ' || d.data[ve-1] == '\t' || d.data[ve-1] == '"') {
			ve--
		}
		v := string(d.data[vs:ve])
		if ve <= vs || Placeholder(v) {
			return
		}
		registry := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(key[:len(key)-len(name)], "//"), ":"), "/")
		if registry == "" {
			registry = "the default registry"
		}
		d.stored("npmrc-auth-token", vs, ve, v, path.Base(d.path)+" holds the "+name+" for "+registry,
			"write ${NPM_TOKEN} in the file and set the variable in CI")
	})
}

// checkPypirc judges `password` in every section of .pypirc.
func (c *Checker) checkPypirc(d *doc, es []config.Entry, claimed map[int]bool) {
	for i, e := range es {
		if strings.ToLower(e.Key()) != "password" || Placeholder(e.Value) {
			continue
		}
		claimed[i] = true
		section := "the default section"
		if len(e.Path) > 1 {
			section = "[" + e.Path[0] + "]"
		}
		d.stored("pypirc-password", e.Start, e.End, e.Value, ".pypirc holds the password or API token of "+section,
			"use keyring or TWINE_PASSWORD / trusted publishing instead")
	}
}

// checkGitCredentials reads the `store` helper's file: one URL with
// credentials per line.
func (c *Checker) checkGitCredentials(d *doc) {
	forEachLine(d.data, func(lo, hi int) {
		line := d.data[lo:hi]
		k := bytes.Index(line, []byte("://"))
		if k < 0 {
			return
		}
		auth := line[k+3:]
		if e := bytes.IndexAny(auth, "/?#"); e >= 0 {
			auth = auth[:e]
		}
		at := bytes.LastIndexByte(auth, '@')
		if at <= 0 {
			return
		}
		host := string(auth[at+1:])
		ui := auth[:at]
		s := lo + k + 3
		if colon := bytes.IndexByte(ui, ':'); colon >= 0 {
			s += colon + 1
			ui = ui[colon+1:]
		}
		v := string(ui)
		if v == "" || Placeholder(v) {
			return
		}
		d.stored("git-credentials-store", s, s+len(ui), v, "git credential store holds the credential for "+host,
			"use a keychain credential helper (git config credential.helper manager|osxkeychain|libsecret|cache)")
	})
}

// checkGitConfig flags http.extraheader values that carry an Authorization header.
func (c *Checker) checkGitConfig(d *doc, es []config.Entry, claimed map[int]bool) {
	for i, e := range es {
		if strings.ToLower(e.Key()) != "extraheader" || len(e.Path) < 2 || strings.ToLower(e.Path[0]) != "http" {
			continue
		}
		v := e.Value
		lv := strings.ToLower(v)
		if !strings.HasPrefix(strings.TrimSpace(lv), "authorization") {
			continue
		}
		// AUTHORIZATION: basic <cred>
		fs := strings.Fields(v)
		if len(fs) < 3 {
			continue
		}
		cred := fs[len(fs)-1]
		if Placeholder(cred) || len(cred) < 8 {
			continue
		}
		off := strings.LastIndex(v, cred)
		claimed[i] = true
		d.stored("git-config-auth-header", e.Start+off, e.Start+off+len(cred), cred,
			"git config http.extraheader stores an Authorization header (as actions/checkout's persist-credentials does)",
			"pass it per command with git -c http.extraheader=… from a secret, or use a credential helper")
	}
}

// checkDockerAuths reads `auths.<registry>.auth|identitytoken|registrytoken|password`.
func (c *Checker) checkDockerAuths(d *doc, es []config.Entry, claimed map[int]bool) {
	for i, e := range es {
		if len(e.Path) != 3 || e.Path[0] != "auths" {
			continue
		}
		k := strings.ToLower(e.Path[2])
		switch k {
		case "auth":
			raw, err := base64.StdEncoding.DecodeString(e.Value)
			if err != nil {
				continue
			}
			_, pass, ok := strings.Cut(string(raw), ":")
			if !ok || pass == "" || Placeholder(pass) {
				continue
			}
		case "identitytoken", "registrytoken", "password":
			if Placeholder(e.Value) || len(e.Value) < 8 {
				continue
			}
		default:
			continue
		}
		claimed[i] = true
		d.stored("docker-config-auth", e.Start, e.End, e.Value,
			"Docker config holds the "+k+" for registry "+e.Path[1],
			"configure a credential store (credsStore / credHelpers) and log in again")
	}
}

// checkKubeconfig reads user credentials of a kubeconfig: users[].user.token,
// password, client-key-data and auth-provider tokens.
func (c *Checker) checkKubeconfig(d *doc, named bool, es []config.Entry, claimed map[int]bool) {
	if !named {
		kind := false
		for _, e := range es {
			if len(e.Path) == 1 && e.Path[0] == "kind" && e.Value == "Config" {
				kind = true
				break
			}
		}
		if !kind {
			return
		}
	}
	for i, e := range es {
		if len(e.Path) < 4 || e.Path[0] != "users" || e.Path[2] != "user" {
			continue
		}
		k := e.Path[len(e.Path)-1]
		switch {
		case len(e.Path) == 4 && (k == "token" || k == "password" || k == "client-key-data"):
		case len(e.Path) == 6 && e.Path[3] == "auth-provider" && e.Path[4] == "config" &&
			(k == "id-token" || k == "refresh-token" || k == "client-secret" || k == "access-token"):
		default:
			continue
		}
		if Placeholder(e.Value) || len(e.Value) < 8 {
			continue
		}
		claimed[i] = true
		user := ""
		for _, f := range es {
			if len(f.Path) == 3 && f.Path[0] == "users" && f.Path[1] == e.Path[1] && f.Path[2] == "name" {
				user = " of user " + f.Value
			}
		}
		d.stored("kubeconfig-credential", e.Start, e.End, e.Value, "kubeconfig holds the "+k+user,
			"use an exec credential plugin or short-lived tokens (kubectl create token) instead")
	}
}

// checkDotenv judges .env entries by key.
func (c *Checker) checkDotenv(d *doc) {
	sample := false
	lb := strings.ToLower(path.Base(d.path))
	for _, s := range []string{"example", "sample", "template", "dist", "defaults", "tmpl", "tpl"} {
		if strings.Contains(lb, s) {
			sample = true
		}
	}
	es, _ := config.Parse(config.Dotenv, d.data)
	for _, e := range es {
		if !CredentialKey(e.Key()) || !CredentialValue(e.Value) {
			continue
		}
		if sample {
			d.add(issue{rule: "dotenv-credential", start: e.Start, end: e.End, secret: e.Value, severity: "low",
				tags: storeTags[1:], msg: "example env file " + path.Base(d.path) + " sets " + e.Key() +
					" to a real-looking value; example files are committed — use a placeholder such as " + e.Key() + "=changeme"})
			continue
		}
		d.stored("dotenv-credential", e.Start, e.End, e.Value, path.Base(d.path)+" sets "+e.Key(),
			"keep .env files out of version control (.gitignore) and commit an example file with placeholders")
	}
}

// forEachLine calls fn with the bounds of each line (without CR/LF).
func forEachLine(data []byte, fn func(lo, hi int)) {
	for lo := 0; lo < len(data); {
		nl := bytes.IndexByte(data[lo:], '\n')
		hi, next := len(data), len(data)
		if nl >= 0 {
			hi, next = lo+nl, lo+nl+1
		}
		e := hi
		if e > lo && data[e-1] == '\r' {
			e--
		}
		fn(lo, e)
		lo = next
	}
}
