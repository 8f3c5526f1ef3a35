package config

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// parseTOML validates with BurntSushi/toml (which does not expose value
// positions) and then walks the text itself to record each string's span.
func parseTOML(data []byte) ([]Entry, error) {
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		se := &SyntaxError{Format: TOML, Msg: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			se.Line = pe.Position.Line
			se.Msg = pe.Message
		}
		return nil, se
	}
	p := tomlParser{d: data, arrays: map[string]int{}}
	if err := p.document(); err != nil {
		return p.out, err
	}
	return p.out, nil
}

type tomlParser struct {
	d      []byte
	i      int
	table  []string
	arrays map[string]int
	out    []Entry
}

func (p *tomlParser) fail(msg string) error {
	return &SyntaxError{Format: TOML, Line: 1 + bytes.Count(p.d[:min(p.i, len(p.d))], []byte{'\n'}), Msg: msg}
}

// skip passes spaces, and newlines and comments when nl is set.
func (p *tomlParser) skip(nl bool) {
	for p.i < len(p.d) {
		switch c := p.d[p.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			p.i++
		case c == '\n' && nl:
			p.i++
		case c == '#':
			for p.i < len(p.d) && p.d[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *tomlParser) document() error {
	for {
		p.skip(true)
		if p.i >= len(p.d) {
			return nil
		}
		if p.d[p.i] == '[' {
			arr := p.i+1 < len(p.d) && p.d[p.i+1] == '['
			if arr {
				p.i += 2
			} else {
				p.i++
			}
			keys, err := p.keys()
			if err != nil {
				return err
			}
			p.skip(false)
			closer := "]"
			if arr {
				closer = "]]"
			}
			if !bytes.HasPrefix(p.d[p.i:], []byte(closer)) {
				return p.fail("table header is not closed with " + closer)
			}
			p.i += len(closer)
			if arr {
				name := strings.Join(keys, "\x00")
				n := p.arrays[name]
				p.arrays[name] = n + 1
				keys = append(keys, "["+strconv.Itoa(n)+"]")
			}
			p.table = keys
			continue
		}
		if err := p.keyValue(p.table); err != nil {
			return err
		}
	}
}

func (p *tomlParser) keyValue(base []string) error {
	keys, err := p.keys()
	if err != nil {
		return err
	}
	p.skip(false)
	if p.i >= len(p.d) || p.d[p.i] != '=' {
		return p.fail("expected = after key")
	}
	p.i++
	p.skip(false)
	path := append(append([]string{}, base...), keys...)
	return p.value(path, 0)
}

func (p *tomlParser) keys() ([]string, error) {
	var keys []string
	for {
		p.skip(false)
		if p.i >= len(p.d) {
			return nil, p.fail("expected a key")
		}
		switch c := p.d[p.i]; c {
		case '"', '\'':
			s, _, _, err := p.str()
			if err != nil {
				return nil, err
			}
			keys = append(keys, s)
		default:
			j := p.i
			for j < len(p.d) && (isKeyByte(p.d[j]) && p.d[j] != '.') {
				j++
			}
			if j == p.i {
				return nil, p.fail("expected a key")
			}
			keys = append(keys, string(p.d[p.i:j]))
			p.i = j
		}
		p.skip(false)
		if p.i < len(p.d) && p.d[p.i] == '.' {
			p.i++
			continue
		}
		return keys, nil
	}
}

// str reads a basic, literal or multi-line string at p.i and returns its value
// and the span of its text.
func (p *tomlParser) str() (val string, start, end int, err error) {
	d := p.d
	switch {
	case bytes.HasPrefix(d[p.i:], []byte(`"""`)), bytes.HasPrefix(d[p.i:], []byte(`'''`)):
		delim := d[p.i : p.i+3]
		start = p.i + 3
		if start < len(d) && d[start] == '\n' {
			start++
		} else if bytes.HasPrefix(d[start:], []byte("\r\n")) {
			start += 2
		}
		k := start
		for {
			j := bytes.Index(d[k:], delim)
			if j < 0 {
				return "", 0, 0, p.fail("multi-line string is not closed")
			}
			k += j
			if delim[0] == '"' && k > 0 && d[k-1] == '\\' && (k < 2 || d[k-2] != '\\') {
				k++
				continue
			}
			break
		}
		// Up to two quotes may sit just before the closing delimiter.
		for k+3 < len(d) && d[k+3] == delim[0] {
			k++
		}
		raw := string(d[start:k])
		p.i = k + 3
		if delim[0] == '"' {
			raw = tomlUnescape(raw)
		}
		return raw, start, k, nil
	case d[p.i] == '"':
		start = p.i + 1
		k := start
		for k < len(d) && d[k] != '"' && d[k] != '\n' {
			if d[k] == '\\' {
				k++
			}
			k++
		}
		if k >= len(d) || d[k] != '"' {
			return "", 0, 0, p.fail("string is not closed")
		}
		p.i = k + 1
		return tomlUnescape(string(d[start:k])), start, k, nil
	default: // literal
		start = p.i + 1
		k := bytes.IndexAny(d[start:], "'\n")
		if k < 0 || d[start+k] != '\'' {
			return "", 0, 0, p.fail("string is not closed")
		}
		p.i = start + k + 1
		return string(d[start : start+k]), start, start + k, nil
	}
}

func tomlUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, "\n", `\n`) + `"`); err == nil {
		return u
	}
	return s
}

func (p *tomlParser) value(path []string, depth int) error {
	if depth > maxDepth {
		return p.fail("nested too deeply")
	}
	if p.i >= len(p.d) {
		return p.fail("expected a value")
	}
	switch c := p.d[p.i]; c {
	case '"', '\'':
		v, s, e, err := p.str()
		if err != nil {
			return err
		}
		p.out = append(p.out, Entry{Path: path, Value: v, Start: s, End: e, Quoted: true})
		return nil
	case '{':
		p.i++
		for {
			p.skip(false)
			if p.i < len(p.d) && p.d[p.i] == '}' {
				p.i++
				return nil
			}
			if err := p.keyValue(path); err != nil {
				return err
			}
			p.skip(false)
			if p.i < len(p.d) && p.d[p.i] == ',' {
				p.i++
			}
		}
	case '[':
		p.i++
		for n := 0; ; n++ {
			p.skip(true)
			if p.i >= len(p.d) {
				return p.fail("array is not closed")
			}
			if p.d[p.i] == ']' {
				p.i++
				return nil
			}
			if err := p.value(appendPath(path, "["+strconv.Itoa(n)+"]"), depth+1); err != nil {
				return err
			}
			p.skip(true)
			if p.i < len(p.d) && p.d[p.i] == ',' {
				p.i++
			}
		}
	default: // number, boolean, date: not a credential
		for p.i < len(p.d) {
			c := p.d[p.i]
			if c == ',' || c == ']' || c == '}' || c == '\n' || c == '#' {
				break
			}
			p.i++
		}
		return nil
	}
}
