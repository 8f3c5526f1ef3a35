package text

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"
)

func utf16Bytes(s string, be, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestSniff(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0, 0, 0, 1}, 64)...)
	shorts := bytes.Repeat([]byte{3, 0, 7, 0, 1, 0}, 100) // little-endian 16-bit numbers, not text
	tests := []struct {
		name string
		in   []byte
		want Kind
	}{
		{"empty", nil, Plain},
		{"ascii", []byte("token = abc\n"), Plain},
		{"utf-8", []byte("naïve — ok\n"), Plain},
		{"nul late", append(bytes.Repeat([]byte("a"), SniffSize), 0), Plain},
		{"utf-16le bom", utf16Bytes("key=value\n", false, true), UTF16LE},
		{"utf-16be bom", utf16Bytes("key=value\n", true, true), UTF16BE},
		{"utf-16le bom no nul", utf16Bytes("日本語のテキスト", false, true), UTF16LE},
		{"utf-16le", utf16Bytes("key=value\nother line\n", false, false), UTF16LE},
		{"utf-16be", utf16Bytes("key=value\nother line\n", true, false), UTF16BE},
		{"utf-16le latin-1 and cyrillic", utf16Bytes("café привет token=x\n", false, false), UTF16LE},
		{"one nul in text", []byte("abc\x00def token = 1234\n"), Binary},
		{"elf", elf, Binary},
		{"16-bit numbers", shorts, Binary},
		{"two bytes", []byte{'a', 0}, Binary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.in); got != tt.want {
				t.Errorf("Sniff = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeUTF16(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		be   bool
		want string
	}{
		{"le bom", utf16Bytes("a\r\nb\n", false, true), false, "a\r\nb\n"},
		{"be bom", utf16Bytes("a\r\nb\n", true, true), true, "a\r\nb\n"},
		{"le no bom", utf16Bytes("x=1\ny=2", false, false), false, "x=1\ny=2"},
		{"surrogate pair", utf16Bytes("a😀b", false, false), false, "a😀b"},
		{"bmp", utf16Bytes("é日", true, false), true, "é日"},
		{"lone high surrogate", []byte{0x3D, 0xD8, 'a', 0}, false, "\uFFFDa"},
		{"lone low surrogate", []byte{0x00, 0xDC, 'a', 0}, false, "\uFFFDa"},
		{"high surrogate at end", []byte{'a', 0, 0x3D, 0xD8}, false, "a\uFFFD"},
		{"odd byte", []byte{'a', 0, 'b'}, false, "a\uFFFD"},
		{"bom only once", utf16Bytes("\uFEFFx", false, true), false, "\uFEFFx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(DecodeUTF16(nil, tt.in, tt.be)); got != tt.want {
				t.Errorf("DecodeUTF16 = %q, want %q", got, tt.want)
			}
			got, err := io.ReadAll(NewUTF16Reader(iotest.OneByteReader(bytes.NewReader(tt.in)), tt.be))
			if err != nil || string(got) != tt.want {
				t.Errorf("NewUTF16Reader = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"text", "token = abcd\nnext line\n", "token = abcd\nnext line\n"},
		{"nul kept as space", "ab\x00cdefgh\n", "   cdefgh\n"},
		{"short runs", "\x01abc\x02abcd\x03", "     abcd "},
		{"lines kept", "\x00\x00\n\x00run here\r\n", "  \n run here\r\n"},
		{"utf-8 run", "\x00héllo\x00", " héllo "},
		{"invalid utf-8", "\xffabcd\xc3", " abcd "},
		{"tab in run", "\x00a\tbc\x00", " a\tbc "},
		{"control char", "abcd\x7fefgh", "abcd efgh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Printable(nil, []byte(tt.in)))
			if got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
			s, err := io.ReadAll(NewPrintableReader(iotest.OneByteReader(strings.NewReader(tt.in))))
			if err != nil || string(s) != tt.want {
				t.Errorf("NewPrintableReader(%q) = %q, %v; want %q", tt.in, s, err, tt.want)
			}
		})
	}
}

func TestReaderError(t *testing.T) {
	boom := io.ErrClosedPipe
	r := NewPrintableReader(io.MultiReader(strings.NewReader("abcdef"), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if err != boom || string(got) != "abcdef" {
		t.Fatalf("got %q, %v; want the bytes before the error and the error", got, err)
	}
}

// chunked reads r in reads of the sizes given by sizes, cycling.
type chunked struct {
	r     io.Reader
	sizes []byte
	i     int
}

func (c *chunked) Read(p []byte) (int, error) {
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])%7 + 1
		c.i++
	}
	return c.r.Read(p[:min(n, len(p))])
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"abcd\x00efgh\n", "\xe6\x97\xa5\xe6\x9c\xac\x00ab\n", "a\x00b\x00c\x00d", "\xf0\x9f\x98\x80abc"} {
		f.Add([]byte(s), []byte{1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		whole := Printable(nil, in)
		if len(whole) != len(in) {
			t.Fatalf("length %d, want %d", len(whole), len(in))
		}
		for i := range in {
			if (in[i] == '\n') != (whole[i] == '\n') {
				t.Fatalf("byte %d: line break not kept: %q -> %q", i, in, whole)
			}
			if whole[i] != in[i] && whole[i] != ' ' {
				t.Fatalf("byte %d changed to %q", i, whole[i])
			}
		}
		if bytes.IndexByte(whole, 0) >= 0 {
			t.Fatalf("NUL left in %q", whole)
		}
		streamed, err := io.ReadAll(NewPrintableReader(&chunked{r: bytes.NewReader(in), sizes: sizes}))
		if err != nil || !bytes.Equal(streamed, whole) {
			t.Fatalf("streamed %q (%v), whole %q", streamed, err, whole)
		}
	})
}

func FuzzUTF16(f *testing.F) {
	for _, s := range [][]byte{utf16Bytes("a\nb😀\r\n", false, true), utf16Bytes("x\ny", true, false), {0x3D, 0xD8}, {0xFF}} {
		f.Add(s, false, []byte{2})
	}
	f.Fuzz(func(t *testing.T, in []byte, be bool, sizes []byte) {
		whole := DecodeUTF16(nil, in, be)
		if !utf8.Valid(whole) {
			t.Fatalf("invalid UTF-8 %q", whole)
		}
		lines := 0
		for i := 0; i+1 < len(in); i += 2 {
			if (be && in[i] == 0 && in[i+1] == '\n') || (!be && in[i] == '\n' && in[i+1] == 0) {
				lines++
			}
		}
		if got := bytes.Count(whole, []byte{'\n'}); got != lines {
			t.Fatalf("%d line breaks, want %d", got, lines)
		}
		streamed, err := io.ReadAll(NewUTF16Reader(&chunked{r: bytes.NewReader(in), sizes: sizes}, be))
		if err != nil || !bytes.Equal(streamed, whole) {
			t.Fatalf("streamed %q (%v), whole %q", streamed, err, whole)
		}
		Sniff(in)
	})
}
