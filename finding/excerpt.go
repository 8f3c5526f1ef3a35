package finding

import "strings"

// Ellipsis marks where Excerpt cut a line.
const Ellipsis = "…"

// Excerpt returns line cut to about limit bytes around line[start:end] (the
// secret, or the span it was decoded from). The cut never falls inside that
// span, and never inside any other token: a cut that would split a run of token
// characters (letters, digits, + / = _ - . ~ % and any non-ASCII byte) moves to
// the edge of the run and drops the partial token, so nothing is left of a cut
// base64 or hex string to decode. cutBefore and cutAfter say that line itself
// was already cut from a longer text at its start or end; its edge tokens are
// then partial too. Cuts are marked with Ellipsis.
//
// Excerpt does not redact: callers cut first and redact the excerpt, so that
// redaction is the last thing applied to the text.
func Excerpt(line string, start, end, limit int, cutBefore, cutAfter bool) string {
	start = min(max(start, 0), len(line))
	end = min(max(end, start), len(line))
	lo, hi := 0, len(line)
	if hi-lo > limit {
		if span := end - start; span >= limit {
			lo, hi = start, end
		} else {
			extra := limit - span
			lo, hi = start-extra/2, end+extra-extra/2
			if lo < 0 {
				hi, lo = hi-lo, 0
			}
			if hi > len(line) {
				lo, hi = max(lo-(hi-len(line)), 0), len(line)
			}
		}
	}
	before := cutBefore || lo > 0
	after := cutAfter || hi < len(line)
	if before {
		// Drop the partial token at the cut: lo moves to the end of its run,
		// but never past the span.
		for lo < start && (lo > 0 && isTokenByte(line[lo-1]) || lo == 0 && cutBefore) && isTokenByte(line[lo]) {
			lo++
		}
	}
	if after {
		for hi > end && (hi < len(line) && isTokenByte(line[hi]) || hi == len(line) && cutAfter) && isTokenByte(line[hi-1]) {
			hi--
		}
	}
	var b strings.Builder
	if before {
		b.WriteString(Ellipsis)
	}
	b.WriteString(line[lo:hi])
	if after {
		b.WriteString(Ellipsis)
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

// isTokenByte reports whether c can be part of a secret or an encoding of one.
func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("+/=_-.~%", c) >= 0
}
