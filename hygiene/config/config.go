// Package config flattens structured configuration files (YAML, JSON, TOML, INI,
// Java properties, .env) into key-path/value entries that remember the exact byte
// span of each value in the source, so a value can be judged by its key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Format is a configuration syntax.
type Format int

// Formats.
const (
	Unknown Format = iota
	YAML
	JSON
	TOML
	INI
	Properties
	Dotenv
)

func (f Format) String() string {
	switch f {
	case YAML:
		return "YAML"
	case JSON:
		return "JSON"
	case TOML:
		return "TOML"
	case INI:
		return "INI"
	case Properties:
		return "properties"
	case Dotenv:
		return ".env"
	}
	return "unknown"
}

// Entry is one scalar value and the path of keys that leads to it.
type Entry struct {
	// Path holds the keys from the root; list items appear as "[i]".
	Path []string
	// Value is the decoded scalar (escapes resolved, quotes removed).
	Value string
	// Start and End are the byte offsets of the value's source text: inside the
	// quotes for a quoted value.
	Start, End int
	// Quoted reports that the value was written as a quoted string.
	Quoted bool
}

// Key returns the last key of the path that is not a list index.
func (e Entry) Key() string { return lastKey(e.Path) }

// PathString renders the path as "db.password" or "users[0].user.token".
func (e Entry) PathString() string {
	var b strings.Builder
	for i, p := range e.Path {
		if strings.HasPrefix(p, "[") {
			b.WriteString(p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// FormatOf chooses a syntax from a file's name: by extension, and by the names of
// well-known files that have none.
func FormatOf(name string) Format {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	switch {
	case base == ".env" || strings.HasPrefix(base, ".env.") || strings.HasSuffix(base, ".env"):
		return Dotenv
	case base == ".pypirc" || base == ".gitconfig" || base == ".my.cnf" || base == "credentials" && strings.Contains(name, ".aws"):
		return INI
	case base == "config" && strings.Contains(name, ".aws/"):
		return INI
	case base == "config" && (strings.HasSuffix(name, ".git/config") || strings.HasSuffix(name, ".git\\config")):
		return INI
	case base == "config" && strings.Contains(name, ".kube/"), base == "kubeconfig":
		return YAML
	}
	switch path.Ext(base) {
	case ".yaml", ".yml":
		return YAML
	case ".json":
		return JSON
	case ".toml":
		return TOML
	case ".ini", ".cfg", ".cnf", ".conf":
		return INI
	case ".properties":
		return Properties
	}
	return Unknown
}

// ErrNotConfig reports content that does not look like the format at all.
var ErrNotConfig = errors.New("not a configuration file of this format")

// SyntaxError locates a parse failure.
type SyntaxError struct {
	Format Format
	Line   int // 1-based; 0 when unknown
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s syntax error at line %d: %s", e.Format, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s syntax error: %s", e.Format, e.Msg)
}

// Parse flattens data in the given format. Nulls, booleans and YAML scalars
// with a custom tag (!vault, !Ref, !Sub: references or encrypted values) are not
// entries; nor are TOML non-strings. On a syntax error it returns the error
// (a *SyntaxError where the position is known) and whatever entries it read before.
func Parse(f Format, data []byte) ([]Entry, error) {
	return ParseKeys(f, data, nil)
}

// ParseKeys is Parse keeping only entries whose key (Entry.Key) satisfies keep
// (nil keeps all). YAML and JSON then skip the cost of the entries they drop.
func ParseKeys(f Format, data []byte, keep func(key string) bool) ([]Entry, error) {
	switch f {
	case YAML:
		return parseYAML(data, keep)
	case JSON:
		return parseJSON(data, keep)
	case TOML:
		return parseTOML(data)
	case INI:
		return parseINI(data)
	case Properties:
		return parseProperties(data), nil
	case Dotenv:
		return parseDotenv(data), nil
	}
	return nil, fmt.Errorf("unsupported format %v", f)
}

// lastKey is the last path element that is not a list index.
func lastKey(p []string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if !strings.HasPrefix(p[i], "[") {
			return p[i]
		}
	}
	return ""
}

// emit reports whether an entry at path p is kept, and returns a copy of p.
func emit(p []string, keep func(string) bool) ([]string, bool) {
	if len(p) == 0 || keep != nil && !keep(lastKey(p)) {
		return nil, false
	}
	return append([]string(nil), p...), true
}

// Lines is the fallback for files that do not parse: every line of the form
// `key: value`, `key = value`, `"key": "value"` or `KEY=value` yields an entry
// whose path is the single key.
func Lines(data []byte) []Entry {
	var out []Entry
	forLines(data, func(lo, hi int) {
		line := data[lo:hi]
		i := skipSpace(line, 0)
		for i < len(line) && (line[i] == '{' || line[i] == '[' || line[i] == ',') {
			i = skipSpace(line, i+1)
		}
		if i < len(line) && (line[i] == '#' || line[i] == ';' || line[i] == '!' || bytes.HasPrefix(line[i:], []byte("//"))) {
			return
		}
		if bytes.HasPrefix(line[i:], []byte("- ")) {
			i = skipSpace(line, i+2)
		}
		if bytes.HasPrefix(line[i:], []byte("export ")) {
			i = skipSpace(line, i+7)
		}
		kStart, kEnd, j, ok := lineKey(line, i)
		if !ok {
			return
		}
		j = skipSpace(line, j)
		if j >= len(line) || (line[j] != ':' && line[j] != '=') {
			return
		}
		j = skipSpace(line, j+1)
		vs, ve, val, quoted := lineValue(line, j)
		if ve <= vs {
			return
		}
		out = append(out, Entry{Path: []string{string(line[kStart:kEnd])}, Value: val,
			Start: lo + vs, End: lo + ve, Quoted: quoted})
	})
	return out
}

// lineKey reads a bare or quoted key at i.
func lineKey(line []byte, i int) (start, end, next int, ok bool) {
	if i < len(line) && (line[i] == '"' || line[i] == '\'') {
		q := line[i]
		k := bytes.IndexByte(line[i+1:], q)
		if k <= 0 {
			return 0, 0, 0, false
		}
		return i + 1, i + 1 + k, i + k + 2, true
	}
	j := i
	for j < len(line) && isKeyByte(line[j]) {
		j++
	}
	if j == i {
		return 0, 0, 0, false
	}
	return i, j, j, true
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lineValue reads a quoted or bare value at j to the end of the line. A bare
// value stops at a trailing comma or at " #" / " //" comments.
func lineValue(line []byte, j int) (start, end int, val string, quoted bool) {
	if j >= len(line) {
		return j, j, "", false
	}
	if q := line[j]; q == '"' || q == '\'' || q == '`' {
		k := j + 1
		for k < len(line) && line[k] != q {
			if line[k] == '\\' && q == '"' {
				k++
			}
			k++
		}
		if k >= len(line) {
			return j, j, "", false
		}
		raw := string(line[j+1 : k])
		v := raw
		if q == '"' {
			if u, err := strconv.Unquote(`"` + raw + `"`); err == nil {
				v = u
			}
		}
		return j + 1, k, v, true
	}
	end = len(line)
	for _, c := range [][]byte{[]byte(" #"), []byte("\t#"), []byte(" //")} {
		if k := bytes.Index(line[j:], c); k >= 0 && j+k < end {
			end = j + k
		}
	}
	for end > j && (line[end-1] == ' ' || line[end-1] == '\t' || line[end-1] == '\r' || line[end-1] == ',' || line[end-1] == ';') {
		end--
	}
	return j, end, string(line[j:end]), false
}

// forLines calls fn with the bounds of each line, without its newline or CR.
func forLines(data []byte, fn func(lo, hi int)) {
	for lo := 0; lo < len(data); {
		hi := bytes.IndexByte(data[lo:], '\n')
		next := len(data)
		if hi < 0 {
			hi = len(data)
		} else {
			hi += lo
			next = hi + 1
		}
		end := hi
		if end > lo && data[end-1] == '\r' {
			end--
		}
		fn(lo, end)
		lo = next
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

func trimRightSpace(b []byte, lo, hi int) int {
	for hi > lo && (b[hi-1] == ' ' || b[hi-1] == '\t' || b[hi-1] == '\r') {
		hi--
	}
	return hi
}
