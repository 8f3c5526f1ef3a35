package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"unicode"
	"unicode/utf8"
)

// Encoded text is found in one pass, decoded, and scanned again; findings inside
// decoded text are located at the encoded text.

const (
	minBase64  = 24      // shortest base64 run worth decoding
	minHex     = 32      // shortest hex run worth decoding
	maxSegment = 1 << 16 // longest encoded run decoded
)

// Byte classes.
const (
	classB64    = 1 << iota // base64 (standard or URL alphabet)
	classHex                // hexadecimal digit
	classURLish             // may appear in a percent-encoded or escaped run
	classStd                // '+' or '/': standard base64 only
	classURL                // '-' or '_': URL-safe base64 only
	classUpper              // A-Z
	classLower              // a-z
)

var class [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '+', b == '/', b == '-', b == '_':
			class[c] |= classB64
		}
		if (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			class[c] |= classHex
		}
		if b > ' ' && b < 0x7f && !bytes.ContainsRune([]byte("\"'`<>(){}[],;"), rune(b)) {
			class[c] |= classURLish
		}
		switch {
		case b == '+', b == '/':
			class[c] |= classStd
		case b == '-', b == '_':
			class[c] |= classURL
		case b >= 'A' && b <= 'Z':
			class[c] |= classUpper
		case b >= 'a' && b <= 'z':
			class[c] |= classLower
		}
	}
}

type segment struct {
	start, end int
	decoded    []byte
	encoding   string
}

// decodeAndScan scans decoded forms of encoded runs that start in buf[from:to].
func (e *Engine) decodeAndScan(buf []byte, from, to int, path string, active []bool, depth int) []raw {
	var out []raw
	for _, seg := range findEncoded(buf, from, to) {
		sub := e.scanBuf(seg.decoded, 0, len(seg.decoded), path, active, depth+1)
		for _, s := range sub {
			if bytes.Contains(buf[seg.start:seg.end], []byte(s.secret)) {
				continue // visible without decoding: the plain scan reports it
			}
			enc := seg.encoding
			if s.encoding != "" {
				enc += "+" + s.encoding
			}
			s.start, s.end, s.mstart, s.mend, s.encoding = seg.start, seg.end, seg.start, seg.end, enc
			out = append(out, s)
		}
	}
	return out
}

// findEncoded returns decodable runs starting in buf[from:to] whose decoded form is text.
func findEncoded(buf []byte, from, to int) []segment {
	var segs []segment
	// base64 and hex runs. Any run of minBase64 or more bytes that starts in
	// [i, i+minBase64) covers byte i+minBase64-1, so probing that byte skips
	// minBase64 bytes at a time through ordinary text.
	for i := from; i < to; {
		probe := i + minBase64 - 1
		if probe >= len(buf) {
			break
		}
		if class[buf[probe]]&classB64 == 0 {
			i = probe + 1
			continue
		}
		start := probe
		for start > i && class[buf[start-1]]&classB64 != 0 {
			start--
		}
		// The run is long enough only if it reaches last; if a byte before last is
		// not base64, no run of minBase64 starts at or before that byte.
		if last := start + minBase64 - 1; last > probe {
			if last >= len(buf) {
				break
			}
			x := last
			for x > probe && class[buf[x]]&classB64 != 0 {
				x--
			}
			if x > probe {
				i = x + 1
				continue
			}
		}
		union, inter := uint8(0), uint8(0xff)
		j, limit := start, min(len(buf), start+maxSegment)
		for j < limit {
			c := class[buf[j]]
			if c&classB64 == 0 {
				break
			}
			union, inter = union|c, inter&c
			j++
		}
		end := j
		for end < len(buf) && end-j < 2 && buf[end] == '=' {
			end++
		}
		i = end
		if start >= to || j-start < minBase64 || (start == from && from > 0 && class[buf[from-1]]&classB64 != 0) {
			continue // too short, or owned by the chunk before
		}
		run := buf[start:j]
		if inter&classHex != 0 {
			if len(run) >= minHex && len(run)%2 == 0 {
				if d, err := hex.DecodeString(string(run)); err == nil && isText(d) {
					segs = append(segs, segment{start, j, d, "hex"})
				}
			}
		} else if d := decodeBase64(run, union); d != nil && isText(d) {
			segs = append(segs, segment{start, end, d, "base64"})
		}
	}
	// percent-encoding and \u escapes, found by their marker bytes.
	segs = appendEscaped(segs, buf, from, to, '%', "percent", percentDecode)
	segs = appendEscaped(segs, buf, from, to, '\\', "unicode-escape", unicodeUnescape)
	return segs
}

func appendEscaped(segs []segment, buf []byte, from, to int, mark byte, name string, decode func([]byte) ([]byte, bool)) []segment {
	for i := from; i < to; {
		k := bytes.IndexByte(buf[i:to], mark)
		if k < 0 {
			break
		}
		p := i + k
		s := p
		for s > 0 && p-s < maxSegment && class[buf[s-1]]&classURLish != 0 {
			s--
		}
		e := p + 1
		for e < len(buf) && e-s < maxSegment && class[buf[e]]&classURLish != 0 {
			e++
		}
		if s < from && from > 0 {
			i = e // begins in an earlier chunk, which owns it
			continue
		}
		if hasEscape(buf[s:e], mark) {
			if d, ok := decode(buf[s:e]); ok && isText(d) {
				segs = append(segs, segment{s, e, d, name})
			}
		}
		i = e
	}
	return segs
}

// decodeBase64 decodes a run of base64 bytes whose classes' union is union. It
// returns nil for a run that mixes the two alphabets or lacks
// either upper- or lower-case letters (identifiers, not encoded data).
func decodeBase64(b []byte, union uint8) []byte {
	std := union&classStd != 0
	url := union&classURL != 0
	if std && url {
		return nil
	}
	if union&classUpper == 0 || union&classLower == 0 {
		return nil
	}
	if len(b)%4 == 1 {
		b = b[:len(b)-1]
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	d := make([]byte, enc.DecodedLen(len(b)))
	n, err := enc.Decode(d, b)
	if err != nil {
		return nil
	}
	return d[:n]
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode decodes %XX sequences, leaving malformed ones as they are.
func percentDecode(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			h, ok1 := unhex(b[i+1])
			l, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				n++
				continue
			}
		}
		out = append(out, b[i])
	}
	return out, n > 0
}

// unicodeUnescape decodes \uXXXX escapes (with surrogate pairs).
func unicodeUnescape(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	n := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u' {
			if r, ok := hex4(b[i+2 : i+6]); ok {
				if utf16Surrogate(r) && i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					if r2, ok := hex4(b[i+8 : i+12]); ok {
						r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
						i += 6
					}
				}
				out = utf8.AppendRune(out, r)
				i += 5
				n++
				continue
			}
		}
		out = append(out, b[i])
	}
	return out, n > 0
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xDC00 }

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		v, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// isText reports whether decoded bytes are printable UTF-8 text.
func isText(b []byte) bool {
	if len(b) < 8 || !utf8.Valid(b) {
		return false
	}
	bad, total := 0, 0
	for _, r := range string(b) {
		total++
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			bad++
		}
	}
	return bad*20 <= total
}

// hasEscape reports whether b holds an escape that percentDecode (mark '%': %XX)
// or unicodeUnescape (mark '\\': \uXXXX) decodes, that is whether they would
// report ok: most runs around a '\\' hold only \n and the like.
func hasEscape(b []byte, mark byte) bool {
	for i := 0; i < len(b); i++ {
		k := bytes.IndexByte(b[i:], mark)
		if k < 0 {
			return false
		}
		i += k
		switch mark {
		case '%':
			if i+2 < len(b) && class[b[i+1]]&classHex != 0 && class[b[i+2]]&classHex != 0 {
				return true
			}
		case '\\':
			if i+5 < len(b) && b[i+1] == 'u' && class[b[i+2]]&class[b[i+3]]&class[b[i+4]]&class[b[i+5]]&classHex != 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}
