package hygiene

import "strings"

// AuthProblem is one defect of an Authorization header value.
type AuthProblem struct {
	Rule    string // hygiene rule id
	Message string // what is wrong and what to do; never holds the credential
	// Secret is the literal credential in the value, if any, and SecretAt its
	// byte index in the prefix (-1 when there is none).
	Secret   string
	SecretAt int
	// Fixed is the literal prefix rewritten to fix the problem, or "" when no
	// fix is obvious: "Bearer" -> "Bearer ", "Bearer  " -> "Bearer ",
	// "Bearer: " -> "Bearer ", "Baerer " -> "Bearer ".
	Fixed string
}

var canonicalScheme = map[string]string{"bearer": "Bearer", "token": "Token", "basic": "Basic", "digest": "Digest"}

// JudgeAuthorization judges an Authorization value from its literal text up to
// the first dynamic part (prefix), whether a dynamic part (an interpolation or
// concatenated expression) follows, and the last identifier of that part. The
// same judgement serves header literals in any language (Check) and Go code
// (tokenward-vet).
func JudgeAuthorization(prefix string, dynamic bool, dynamicName string) []AuthProblem {
	var out []AuthProblem
	add := func(rule, msg, secret string, at int, fixed string) {
		if secret == "" {
			at = -1
		}
		out = append(out, AuthProblem{Rule: rule, Message: msg, Secret: secret, SecretAt: at, Fixed: fixed})
	}
	trimmed := strings.TrimLeft(prefix, " \t")
	lead := len(prefix) - len(trimmed)
	word := firstWord(trimmed)
	lw := strings.ToLower(word)
	rest := trimmed[len(word):]

	if word == "" {
		if prefix == "" && dynamic && rawTokenIdent(dynamicName) {
			add("auth-header-missing-scheme", "Authorization is set to "+dynamicName+" with no scheme word; most APIs "+
				"expect \"Bearer <token>\" or \"Token <token>\" (check the provider's documentation) and reject or mis-log a bare token",
				"", 0, "")
		}
		return out
	}
	secret, at := credentialAfter(rest, lead+len(word))
	if lead > 0 && knownSchemes[lw] {
		add("auth-header-spacing", "Authorization value starts with whitespace before the scheme; send exactly \""+word+
			" <credential>\"", secret, at, trimmed)
	}
	if !knownSchemes[lw] {
		switch {
		case schemeTypo(lw) != "" && (rest != "" || dynamic):
			want := canonicalScheme[schemeTypo(lw)]
			add("auth-header-bad-scheme", "Authorization scheme "+quote(word)+" looks like a misspelling of "+quote(want)+
				"; the server will reject the credential — write the scheme exactly", secret, at, want+rest)
		case glued(word) != "":
			sch := glued(word)
			tok := strings.TrimSpace(trimmed[len(sch):])
			add("auth-header-spacing", "no space between the scheme "+quote(sch)+" and the credential; send \""+sch+
				" <credential>\"", credOrEmpty(tok), lead+len(sch), sch+" "+trimmed[len(sch):])
		case rest == "" && !dynamic && tokenish(word) && strings.ContainsAny(word, "0123456789") && !Placeholder(word):
			add("auth-header-missing-scheme", "Authorization value is a bare credential with no scheme word; most APIs "+
				"expect \"Bearer <token>\" or \"Token <token>\" (check the provider's documentation)", word, lead, "")
		}
		return out
	}
	switch {
	case rest == "" && dynamic:
		add("auth-header-concatenated", "the scheme "+quote(word)+" is joined to the credential without a space (\""+word+
			"\" + token gives \""+word+"abc…\"); the server cannot parse it — add one space: \""+word+" \" + token", "", 0, prefix+" ")
	case strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "="):
		add("auth-header-bad-scheme", "Authorization scheme "+quote(word)+" is followed by "+quote(rest[:1])+
			"; the value is \""+word+" <credential>\" with one space and no punctuation", secret, at,
			word+" "+strings.TrimLeft(rest[1:], " \t"))
	case strings.HasPrefix(rest, "  ") || strings.HasPrefix(rest, "\t") || strings.HasPrefix(rest, " \t"):
		add("auth-header-spacing", "more than one space (or a tab) between "+quote(word)+" and the credential; some "+
			"servers reject it or read the token with a leading space — use exactly one space", secret, at,
			word+" "+strings.TrimLeft(rest, " \t"))
	case strings.HasPrefix(rest, " "):
		c1 := rest[1:]
		switch {
		case strings.HasPrefix(c1, `"`) || strings.HasPrefix(c1, `'`) || strings.HasPrefix(c1, `\"`) ||
			strings.HasPrefix(c1, `\'`) || strings.HasPrefix(c1, "&quot;"):
			add("auth-header-quoted-token", "the credential after "+quote(word)+" is wrapped in quotes, which become "+
				"part of the token and make it invalid — send "+word+" <credential> without quotes", secret, at, "")
		case !dynamic && strings.TrimRight(c1, " \t") != c1 && strings.TrimSpace(c1) != "":
			add("auth-header-spacing", "trailing whitespace after the credential becomes part of the token; trim it",
				secret, at, strings.TrimRight(prefix, " \t"))
		}
		if lw == "basic" && secret != "" {
			if ok, _ := basicPair(secret); ok {
				add("basic-auth-plain-base64", "Basic credentials are only base64-encoded: this value decodes to a "+
					"username and password that anyone reading it can use — remove it, keep the password in a secret "+
					"store and rotate it", secret, at, "")
			}
		}
	}
	return out
}

// credentialAfter finds a literal credential in rest (which starts at index
// from of the prefix), skipping separators and quotes; at = -1 when there is none.
func credentialAfter(rest string, from int) (string, int) {
	t := strings.TrimLeft(rest, " \t:=")
	skip := len(rest) - len(t)
	t2 := strings.TrimLeft(t, `\"'`)
	skip += len(t) - len(t2)
	end := 0
	for end < len(t2) && !strings.ContainsRune(" \t\"'\\", rune(t2[end])) {
		end++
	}
	tok := t2[:end]
	if len(tok) < 8 || Placeholder(tok) {
		return "", -1
	}
	return tok, from + skip
}
