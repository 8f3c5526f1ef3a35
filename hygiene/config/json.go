package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

const maxDepth = 500

// parseJSON streams tokens so that each value's byte span comes from the
// decoder's input offset; nothing but the current path is held.
func parseJSON(data []byte, keep func(string) bool) ([]Entry, error) {
	p := jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), keep: keep}
	p.dec.UseNumber()
	err := p.value(nil, 0)
	if err == nil {
		if _, e := p.dec.Token(); !errors.Is(e, io.EOF) {
			err = p.fail("extra content after the top-level value")
		}
	}
	return p.out, err
}

type jsonParser struct {
	data []byte
	dec  *json.Decoder
	out  []Entry
	keep func(string) bool
}

func (p *jsonParser) fail(msg string) error {
	off := int(p.dec.InputOffset())
	return &SyntaxError{Format: JSON, Line: 1 + bytes.Count(p.data[:min(off, len(p.data))], []byte{'\n'}), Msg: msg}
}

func (p *jsonParser) token() (json.Token, int, error) {
	before := int(p.dec.InputOffset())
	t, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, p.fail("unexpected end of input")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := int(se.Offset)
			return nil, 0, &SyntaxError{Format: JSON, Line: 1 + bytes.Count(p.data[:min(off, len(p.data))], []byte{'\n'}), Msg: se.Error()}
		}
		return nil, 0, p.fail(err.Error())
	}
	// The token starts after whitespace and the separators the decoder consumed.
	for before < len(p.data) {
		c := p.data[before]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ':' && c != ',' {
			break
		}
		before++
	}
	return t, before, nil
}

func (p *jsonParser) value(path []string, depth int) error {
	if depth > maxDepth {
		return p.fail("nested too deeply")
	}
	t, start, err := p.token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			for p.dec.More() {
				kt, _, err := p.token()
				if err != nil {
					return err
				}
				k, ok := kt.(string)
				if !ok {
					return p.fail("object key is not a string")
				}
				if err := p.value(append(path, k), depth+1); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; p.dec.More(); i++ {
				if err := p.value(append(path, "["+strconv.Itoa(i)+"]"), depth+1); err != nil {
					return err
				}
			}
		default:
			return p.fail("unexpected " + v.String())
		}
		_, _, err := p.token() // the closing delimiter
		return err
	case string:
		end := int(p.dec.InputOffset())
		if cp, ok := emit(path, p.keep); ok {
			p.out = append(p.out, Entry{Path: cp, Value: v, Start: start + 1, End: end - 1, Quoted: true})
		}
	case json.Number:
		end := int(p.dec.InputOffset())
		if cp, ok := emit(path, p.keep); ok {
			p.out = append(p.out, Entry{Path: cp, Value: v.String(), Start: start, End: end})
		}
	}
	return nil
}
