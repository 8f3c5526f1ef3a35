package config

import (
	"bytes"
	"strconv"
	"strings"
)

// parseINI reads `[section]`, git's `[section "sub"]`, and `key = value` or
// `key: value` lines. Values run to the end of the line; matching quotes are
// removed. Content where most lines fit none of these forms is not INI.
func parseINI(data []byte) ([]Entry, error) {
	var (
		out     []Entry
		section []string
		junk    int
		good    int
		first   int
	)
	lineNo := 0
	forLines(data, func(lo, hi int) {
		lineNo++
		line := data[lo:hi]
		i := skipSpace(line, 0)
		if i == len(line) || line[i] == '#' || line[i] == ';' {
			return
		}
		if line[i] == '[' {
			end := bytes.LastIndexByte(line, ']')
			if end < i {
				junk++
				if first == 0 {
					first = lineNo
				}
				return
			}
			good++
			section = iniSection(string(line[i+1 : end]))
			return
		}
		k := i
		for k < len(line) && line[k] != '=' && line[k] != ':' {
			k++
		}
		key := strings.TrimSpace(string(line[i:k]))
		if k == len(line) || key == "" || strings.ContainsAny(key, "{}();\"'<>") {
			if k == len(line) && isBareWord(key) {
				good++ // git's boolean shorthand: `[core] bare`
				return
			}
			junk++
			if first == 0 {
				first = lineNo
			}
			return
		}
		good++
		vs := skipSpace(line, k+1)
		ve := trimRightSpace(line, vs, len(line))
		quoted := false
		if ve-vs >= 2 && (line[vs] == '"' && line[ve-1] == '"' || line[vs] == '\'' && line[ve-1] == '\'') {
			vs, ve, quoted = vs+1, ve-1, true
		}
		if ve <= vs {
			return
		}
		p := append(append([]string{}, section...), key)
		out = append(out, Entry{Path: p, Value: string(line[vs:ve]), Start: lo + vs, End: lo + ve, Quoted: quoted})
	})
	if junk > 0 && junk >= good {
		return out, &SyntaxError{Format: INI, Line: first, Msg: "line is neither [section] nor key = value"}
	}
	return out, nil
}

func isBareWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isKeyByte(s[i]) {
			return false
		}
	}
	return true
}

// iniSection splits `remote "origin"` into [remote origin] and `a.b` into [a b].
func iniSection(s string) []string {
	s = strings.TrimSpace(s)
	if q := strings.IndexByte(s, '"'); q > 0 {
		sub := strings.Trim(strings.TrimSpace(s[q:]), `"`)
		return []string{strings.TrimSpace(s[:q]), sub}
	}
	return strings.Split(s, ".")
}

// parseProperties reads Java properties: `key=value`, `key: value` or
// `key value`, `#`/`!` comments. A value continued with a trailing backslash
// keeps only its first line's span.
func parseProperties(data []byte) []Entry {
	var out []Entry
	cont := false
	forLines(data, func(lo, hi int) {
		line := data[lo:hi]
		wasCont := cont
		cont = bytes.HasSuffix(line, []byte(`\`)) && !bytes.HasSuffix(line, []byte(`\\`))
		if wasCont {
			return
		}
		i := skipSpace(line, 0)
		if i == len(line) || line[i] == '#' || line[i] == '!' {
			return
		}
		k := i
		for k < len(line) && line[k] != '=' && line[k] != ':' && line[k] != ' ' && line[k] != '\t' {
			if line[k] == '\\' {
				k++
			}
			k++
		}
		k = min(k, len(line))
		key := strings.ReplaceAll(string(line[i:k]), `\`, "")
		j := skipSpace(line, k)
		if j < len(line) && (line[j] == '=' || line[j] == ':') {
			j = skipSpace(line, j+1)
		}
		ve := trimRightSpace(line, j, len(line))
		if cont {
			ve = trimRightSpace(line, j, ve-1)
		}
		if ve <= j || key == "" {
			return
		}
		val := string(line[j:ve])
		if strings.Contains(val, `\u`) {
			if u, err := strconv.Unquote(`"` + strings.ReplaceAll(val, `"`, `\"`) + `"`); err == nil {
				val = u
			}
		}
		out = append(out, Entry{Path: strings.Split(key, "."), Value: val, Start: lo + j, End: lo + ve})
	})
	return out
}

// parseDotenv reads `KEY=value`, `export KEY=value`, quoted values and trailing
// ` # comments`.
func parseDotenv(data []byte) []Entry {
	var out []Entry
	forLines(data, func(lo, hi int) {
		line := data[lo:hi]
		i := skipSpace(line, 0)
		if bytes.HasPrefix(line[i:], []byte("export ")) {
			i = skipSpace(line, i+7)
		}
		k := i
		for k < len(line) && isKeyByte(line[k]) {
			k++
		}
		if k == i || k >= len(line) || line[k] != '=' {
			return
		}
		j := k + 1
		var (
			vs, ve int
			val    string
			quoted bool
		)
		if j < len(line) && (line[j] == '"' || line[j] == '\'') {
			q := line[j]
			e := bytes.IndexByte(line[j+1:], q)
			if e < 0 {
				return
			}
			vs, ve, quoted = j+1, j+1+e, true
			val = string(line[vs:ve])
		} else {
			vs, ve = j, len(line)
			if c := bytes.Index(line[j:], []byte(" #")); c >= 0 {
				ve = j + c
			}
			ve = trimRightSpace(line, vs, ve)
			val = string(line[vs:ve])
		}
		if ve <= vs {
			return
		}
		out = append(out, Entry{Path: []string{string(line[i:k])}, Value: val, Start: lo + vs, End: lo + ve, Quoted: quoted})
	})
	return out
}
