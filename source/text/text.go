// Package text decides how content is read as text: plain (UTF-8 or anything
// without NUL bytes), UTF-16 (little or big endian, with or without a byte-order
// mark), or binary, and turns the last two into UTF-8 the engine can scan with
// exact positions.
//
// UTF-16 is decoded code unit by code unit: every line break of the original is a
// line break of the result and every code point one rune, so a finding's line and
// column (columns count code points) are those an editor shows for the UTF-16 file.
//
// Binary content is reduced to its printable runs, as strings(1) would, but in
// place: bytes outside runs become spaces, runs shorter than MinRun characters
// too, and the bytes '\n' and '\r' are kept. The result has the length of the
// input and every byte its offset, so a finding's line in a binary is 1 + the
// number of 0x0A bytes before it, and its column counts one for each character of
// a run (a multi-byte UTF-8 character once) and one for each other byte since
// the last 0x0A.
package text

import (
	"bytes"
	"io"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is how content is read.
type Kind uint8

// Kinds of content.
const (
	Plain   Kind = iota // scanned as it is
	UTF16LE             // UTF-16, little endian
	UTF16BE             // UTF-16, big endian
	Binary              // scanned as its printable runs
)

func (k Kind) String() string {
	switch k {
	case Plain:
		return "text"
	case UTF16LE:
		return "UTF-16LE"
	case UTF16BE:
		return "UTF-16BE"
	}
	return "binary"
}

// SniffSize is how much of the head Sniff looks at, as git does to call a file
// binary.
const SniffSize = 8000

// MinRun is the shortest printable run kept in binary content, in characters
// (strings(1) keeps runs of 4).
const MinRun = 4

// Sniff tells how content starting with head is read. It costs two byte
// comparisons and a search for a NUL byte on text without NULs; only content
// with a NUL byte in its first SniffSize bytes is examined further.
func Sniff(head []byte) Kind {
	if len(head) >= 2 {
		switch {
		case head[0] == 0xFF && head[1] == 0xFE:
			return UTF16LE
		case head[0] == 0xFE && head[1] == 0xFF:
			return UTF16BE
		}
	}
	head = head[:min(len(head), SniffSize)]
	if bytes.IndexByte(head, 0) < 0 {
		return Plain
	}
	return sniffNUL(head)
}

// sniffNUL tells UTF-16 without a byte-order mark from binary content. UTF-16
// text that is mostly ASCII has a NUL in (nearly) every high byte and in no low
// byte; what it decodes to must also be mostly printable, which tells it from
// arrays of small 16-bit numbers.
func sniffNUL(head []byte) Kind {
	n := len(head) / 2
	if n < 2 {
		return Binary
	}
	var zeroEven, zeroOdd int
	for i := 0; i+1 < len(head); i += 2 {
		if head[i] == 0 {
			zeroEven++
		}
		if head[i+1] == 0 {
			zeroOdd++
		}
	}
	var k Kind
	switch {
	case zeroOdd*2 >= n && zeroEven*20 <= n:
		k = UTF16LE
	case zeroEven*2 >= n && zeroOdd*20 <= n:
		k = UTF16BE
	default:
		return Binary
	}
	good := 0
	for i := 0; i+1 < len(head); i += 2 {
		u := rune(head[i]) | rune(head[i+1])<<8
		if k == UTF16BE {
			u = rune(head[i])<<8 | rune(head[i+1])
		}
		if u == '\n' || u == '\r' || u == '\t' || (u >= 0x20 && u != 0x7F && !(u >= 0x80 && u < 0xA0)) {
			good++
		}
	}
	if good*100 < n*95 {
		return Binary
	}
	return k
}

// DecodeUTF16 appends src, UTF-16 in the given byte order, to dst as UTF-8 and
// returns it. A leading byte-order mark is dropped; an unpaired surrogate or a
// trailing odd byte becomes U+FFFD.
func DecodeUTF16(dst, src []byte, bigEndian bool) []byte {
	src = dropBOM(src, bigEndian)
	dst = slicesGrow(dst, len(src))
	out, _ := decodeUTF16(dst, src, bigEndian, true)
	return out
}

func dropBOM(src []byte, bigEndian bool) []byte {
	if len(src) >= 2 && ((!bigEndian && src[0] == 0xFF && src[1] == 0xFE) || (bigEndian && src[0] == 0xFE && src[1] == 0xFF)) {
		return src[2:]
	}
	return src
}

func slicesGrow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// decodeUTF16 decodes the whole code units of src and returns how many bytes it
// consumed: at the end of a chunk (atEOF false) it leaves an odd byte or a high
// surrogate whose pair may follow.
func decodeUTF16(dst, src []byte, be, atEOF bool) ([]byte, int) {
	unit := func(i int) rune {
		if be {
			return rune(src[i])<<8 | rune(src[i+1])
		}
		return rune(src[i+1])<<8 | rune(src[i])
	}
	i := 0
	for ; i+1 < len(src); i += 2 {
		u := unit(i)
		switch {
		case u < 0x80:
			dst = append(dst, byte(u))
			continue
		case !utf16.IsSurrogate(u):
		case u < 0xDC00 && i+3 < len(src): // a high surrogate and a unit after it
			if r := utf16.DecodeRune(u, unit(i+2)); r != utf8.RuneError {
				dst = utf8.AppendRune(dst, r)
				i += 2
				continue
			}
			u = utf8.RuneError
		case u < 0xDC00 && !atEOF: // its pair may be in the next chunk
			return dst, i
		default:
			u = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, u)
	}
	if i < len(src) { // an odd byte
		if !atEOF {
			return dst, i
		}
		dst = utf8.AppendRune(dst, utf8.RuneError)
		i++
	}
	return dst, i
}

// NewUTF16Reader returns a reader of r's UTF-16 content as UTF-8 (as DecodeUTF16
// does, in chunks).
func NewUTF16Reader(r io.Reader, bigEndian bool) io.Reader {
	return &transformer{r: r, fn: func(dst, src []byte, first, atEOF bool) ([]byte, int) {
		skip := 0
		if first {
			if len(src) < 2 && !atEOF {
				return dst, 0
			}
			skip = len(src) - len(dropBOM(src, bigEndian))
		}
		out, n := decodeUTF16(dst, src[skip:], bigEndian, atEOF)
		return out, skip + n
	}}
}

// Printable appends src with every byte outside a printable run of at least
// MinRun characters replaced by a space ('\n' and '\r' are kept) to dst. The
// result appended has len(src) bytes: see the package comment for what positions
// mean. Printable characters are tab, ASCII 0x20-0x7E and valid UTF-8 encodings
// of printable non-ASCII characters.
func Printable(dst, src []byte) []byte {
	dst = slicesGrow(dst, len(src))
	out, _, _ := printable(dst, src, false, true)
	return out
}

// NewPrintableReader returns a reader of r's content as Printable gives it.
func NewPrintableReader(r io.Reader) io.Reader {
	cont := false
	return &transformer{r: r, fn: func(dst, src []byte, _, atEOF bool) ([]byte, int) {
		out, n, c := printable(dst, src, cont, atEOF)
		cont = c
		return out, n
	}}
}

// printableAt returns the width of the printable character at src[0], 0 when
// there is none, and -1 when src holds only the start of a multi-byte character.
func printableAt(src []byte, atEOF bool) int {
	c := src[0]
	if c < utf8.RuneSelf {
		if (c >= 0x20 && c < 0x7F) || c == '\t' {
			return 1
		}
		return 0
	}
	if !utf8.FullRune(src) {
		if !atEOF {
			return -1
		}
		return 0
	}
	r, w := utf8.DecodeRune(src)
	if r == utf8.RuneError && w == 1 || !unicode.IsPrint(r) {
		return 0
	}
	return w
}

// class sorts bytes for printable: 1 printable ASCII (tab, 0x20-0x7E), 2 a byte
// that may start a multi-byte UTF-8 character (0xC2-0xF4), 0 anything else.
var class = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == '\t' || c >= 0x20 && c < 0x7F:
			t[c] = 1
		case c >= 0xC2 && c <= 0xF4:
			t[c] = 2
		}
	}
	return t
}()

// printable transforms src (see Printable). cont says that src continues a run
// already known to be long enough; at the end of a chunk (atEOF false) it keeps
// back a short run that the next chunk may lengthen, and an incomplete character.
// It returns the bytes consumed and whether the run at the end continues. The
// output of byte k of src is byte k of what it appends.
func printable(dst, src []byte, cont, atEOF bool) ([]byte, int, bool) {
	base := len(dst)
	dst = slicesGrow(dst, len(src))[:base+len(src)]
	o := dst[base:]
	i := 0
	for i < len(src) {
		if c := src[i]; class[c] == 0 { // not printable
			if c != '\n' && c != '\r' {
				c = ' '
			}
			o[i] = c
			i++
			cont = false
			continue
		}
		j, n, w := i, 0, 0
		for j < len(src) {
			switch class[src[j]] {
			case 1:
				j++
				n++
				continue
			case 2:
				if w = printableAt(src[j:], atEOF); w > 0 {
					j += w
					n++
					continue
				}
			default:
				w = 0
			}
			break
		}
		if j == i { // a character start, not printable or incomplete
			if w < 0 {
				return dst[:base+i], i, cont
			}
			o[i] = ' '
			i++
			cont = false
			continue
		}
		keep := cont || n >= MinRun
		if (j == len(src) || w < 0) && !atEOF { // the run may go on in the next chunk
			if !keep {
				return dst[:base+i], i, false
			}
			copy(o[i:j], src[i:j])
			return dst[:base+j], j, true
		}
		if keep {
			copy(o[i:j], src[i:j])
		} else {
			for k := i; k < j; k++ {
				o[k] = ' '
			}
		}
		cont = false
		i = j
	}
	return dst[:base+i], i, cont
}

// transformer applies fn to r's content in chunks. fn appends the transform of
// the whole of src it can to dst and says how many bytes of src it consumed; the
// rest is handed to it again with the next chunk.
type transformer struct {
	r     io.Reader
	fn    func(dst, src []byte, first, atEOF bool) ([]byte, int)
	in    []byte // read, not yet consumed
	out   []byte // transformed, not yet returned
	obuf  []byte // out's storage
	first bool   // fn has consumed something
	eof   bool
	err   error
}

const chunk = 64 << 10

func (t *transformer) Read(p []byte) (int, error) {
	for len(t.out) == 0 {
		if t.eof {
			return 0, t.err
		}
		if t.in == nil {
			t.in = make([]byte, 0, chunk+16)
		}
		n, err := io.ReadAtLeast(t.r, t.in[len(t.in):cap(t.in)], 1)
		t.in = t.in[:len(t.in)+n]
		if err != nil {
			t.eof = true
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.err = err
			} else {
				t.err = io.EOF
			}
		}
		out, used := t.fn(t.obuf[:0], t.in, !t.first, t.eof)
		if used > 0 {
			t.first = true
		}
		t.obuf, t.out = out, out
		t.in = t.in[:copy(t.in, t.in[used:])]
	}
	n := copy(p, t.out)
	t.out = t.out[n:]
	return n, nil
}
