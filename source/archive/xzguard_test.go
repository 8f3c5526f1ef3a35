package archive

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ulikunitz/xz"
)

func crc(b []byte) []byte { return binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) }

// handXZ builds an xz stream (no check) of one block per part, each block an
// uncompressed LZMA2 chunk whose header asks for the dictionary props[i] codes.
func handXZ(parts []string, props []byte) []byte {
	flags := []byte{0, 0}
	out := append([]byte("\xFD7zXZ\x00"), flags...)
	out = append(out, crc(flags)...)
	var index []byte
	for i, p := range parts {
		h := []byte{2, 0, 0x21, 1, props[i], 0, 0, 0} // 12 bytes with the CRC
		h = append(h, crc(h)...)
		data := []byte{1}
		data = binary.BigEndian.AppendUint16(data, uint16(len(p)-1))
		data = append(data, p...)
		data = append(data, 0)
		block := append(h, data...)
		unpadded := len(block)
		for len(block)%4 != 0 {
			block = append(block, 0)
		}
		out = append(out, block...)
		index = binary.AppendUvarint(index, uint64(unpadded))
		index = binary.AppendUvarint(index, uint64(len(p)))
	}
	idx := append([]byte{0}, binary.AppendUvarint(nil, uint64(len(parts)))...)
	idx = append(idx, index...)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = append(idx, crc(idx)...)
	out = append(out, idx...)
	foot := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	foot = append(foot, flags...)
	out = append(out, crc(foot)...)
	out = append(out, foot...)
	return append(out, "YZ"...)
}

func TestXZGuard(t *testing.T) {
	var multi bytes.Buffer
	w, err := xz.WriterConfig{BlockSize: 1000, CheckSum: xz.CRC32}.NewWriter(&multi)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(strings.Repeat("some text to compress in blocks\n", 400)))
	w.Close()
	two := handXZ([]string{"first block\n", "second block\n"}, []byte{22, 22})
	tests := []struct {
		name  string
		in    []byte
		plain string // "" : not checked
	}{
		{"xz -9 --block-size", readTestdata(t, "log.txt.xz"), ""},
		{"many blocks, crc32", multi.Bytes(), strings.Repeat("some text to compress in blocks\n", 400)},
		{"by hand, two blocks", two, "first block\nsecond block\n"},
		{"two streams with padding", append(append(bytes.Clone(two), 0, 0, 0, 0), two...), "first block\nsecond block\nfirst block\nsecond block\n"},
		{"one byte", xzOf(t, []byte("x")), "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newXZGuard(iotest.OneByteReader(bytes.NewReader(tt.in)))
			got, err := io.ReadAll(g)
			if err != nil || !bytes.Equal(got, tt.in) {
				t.Fatalf("the guard changed the stream (err %v)", err)
			}
			if g.lost || g.state != xzStreamPadding {
				t.Errorf("the guard lost the structure (state %d)", g.state)
			}
			x, err := newXZ(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(x)
			if err != nil || (tt.plain != "" && string(plain) != tt.plain) {
				t.Errorf("decoded %q, %v", plain, err)
			}
		})
	}
}

func TestXZGuardRejectsHugeDictionary(t *testing.T) {
	for _, props := range [][]byte{{40, 22}, {22, 40}, {22, 38}} {
		bad := handXZ([]string{"first block\n", "second block\n"}, props)
		res := walkAll(t, Limits{}, "x.xz", bad, "reader")
		if res.err == nil || !strings.Contains(res.err.Error(), "MiB dictionary, over the 64 MiB") {
			t.Errorf("props %v: error %v, want the dictionary limit", props, res.err)
		}
	}
}

// FuzzXZGuard: whatever the input, the guard passes it on unchanged up to the
// point where it rejects a header.
func FuzzXZGuard(f *testing.F) {
	f.Add(handXZ([]string{"a", "bb"}, []byte{22, 22}))
	f.Add(readTestdata(f, "log.txt.xz"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := io.ReadAll(newXZGuard(iotest.HalfReader(bytes.NewReader(in))))
		if !bytes.HasPrefix(in, got) || (err == nil && len(got) != len(in)) {
			t.Fatalf("guard gave %d bytes of %d (err %v), not a prefix", len(got), len(in), err)
		}
	})
}
