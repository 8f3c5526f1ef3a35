package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

func parseYAML(data []byte, keep func(string) bool) (out []Entry, err error) {
	defer func() {
		// yaml.v3 panics on a few pathological inputs; a bad file must not abort a scan.
		if r := recover(); r != nil {
			err = &SyntaxError{Format: YAML, Msg: "parser failed"}
		}
	}()
	lines := lineStarts(data)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var n yaml.Node
		if e := dec.Decode(&n); e != nil {
			if errors.Is(e, io.EOF) {
				return out, nil
			}
			return out, yamlError(e)
		}
		w := yamlWalker{data: data, lines: lines, keep: keep}
		w.walk(&n, nil)
		out = append(out, w.out...)
	}
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlError(e error) error {
	msg := strings.TrimPrefix(e.Error(), "yaml: ")
	se := &SyntaxError{Format: YAML, Msg: msg}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		se.Line, _ = strconv.Atoi(m[1])
		se.Msg = strings.TrimSpace(yamlLineRe.ReplaceAllString(msg, ""))
		se.Msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(se.Msg, ":")), ": ")
	}
	return se
}

type yamlWalker struct {
	data  []byte
	lines []int
	out   []Entry
	depth int
	keep  func(string) bool
}

func (w *yamlWalker) walk(n *yaml.Node, p []string) {
	if w.depth > 200 {
		return
	}
	w.depth++
	defer func() { w.depth-- }()
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			w.walk(v, append(p, k.Value))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.walk(c, append(p, "["+strconv.Itoa(i)+"]"))
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" || n.Tag == "!!bool" || n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
			return
		}
		cp, keep := emit(p, w.keep)
		if !keep {
			return
		}
		start, end, ok := w.span(n)
		if !ok {
			return
		}
		w.out = append(w.out, Entry{Path: cp, Value: n.Value, Start: start, End: end,
			Quoted: n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0})
	}
}

func appendPath(p []string, k string) []string {
	q := make([]string, len(p)+1)
	copy(q, p)
	q[len(p)] = k
	return q
}

// span finds the byte range of a scalar's text from the node's line and
// character column.
func (w *yamlWalker) span(n *yaml.Node) (int, int, bool) {
	if n.Line < 1 || n.Line > len(w.lines) {
		return 0, 0, false
	}
	off := advanceRunes(w.data, w.lines[n.Line-1], n.Column-1)
	d := w.data
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if off >= len(d) || d[off] != '"' {
			return 0, 0, false
		}
		k := off + 1
		for k < len(d) && d[k] != '"' {
			if d[k] == '\\' {
				k++
			}
			k++
		}
		return off + 1, min(k, len(d)), true
	case n.Style&yaml.SingleQuotedStyle != 0:
		if off >= len(d) || d[off] != '\'' {
			return 0, 0, false
		}
		k := off + 1
		for k < len(d) {
			if d[k] == '\'' {
				if k+1 < len(d) && d[k+1] == '\'' {
					k += 2
					continue
				}
				break
			}
			k++
		}
		return off + 1, k, true
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The node sits on the indicator; the text starts on a later line.
		pos := off
		start := -1
		for _, l := range strings.Split(n.Value, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			i := bytes.Index(d[pos:], []byte(l))
			if i < 0 {
				break
			}
			if start < 0 {
				start = pos + i
			}
			pos += i + len(l)
		}
		if start < 0 {
			return 0, 0, false
		}
		return start, pos, true
	default:
		if bytes.HasPrefix(d[off:], []byte(n.Value)) {
			return off, off + len(n.Value), true
		}
		// A plain scalar folded over several lines: take its words in order.
		pos := off
		for _, word := range strings.Fields(n.Value) {
			i := bytes.Index(d[pos:], []byte(word))
			if i < 0 {
				return 0, 0, false
			}
			pos += i + len(word)
		}
		return off, pos, true
	}
}

// lineStarts returns the byte offset at which each line begins.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// advanceRunes moves n characters forward from off, stopping at the end of the line.
func advanceRunes(data []byte, off, n int) int {
	for ; n > 0 && off < len(data) && data[off] != '\n'; n-- {
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off
}
