package archive

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// xzGuard passes an xz file through unchanged while following its structure
// (streams, block headers, LZMA2 chunks, index, footer, padding), and fails
// before handing on a block header whose LZMA2 dictionary is over MaxXZDict: the
// decoder allocates the dictionary each block header asks for, so one hostile
// header would otherwise cost up to 4 GiB. Chunk payloads are skipped by their
// sizes, not examined. Content it cannot follow is passed on as it is (the
// decoder then rejects it).
type xzGuard struct {
	r     io.Reader
	buf   []byte // read from r, not yet returned
	pos   int    // buf[:pos] has been followed and may be returned
	skip  int64  // bytes after pos to pass without looking
	state xzState
	pass  bool  // the rest is passed on as it is
	lost  bool  // because the structure could not be followed (not a clean end)
	rerr  error // r's error, returned once buf is drained
	err   error // a header over the limit

	check    int64 // size of each block's check field
	blockLen int64 // bytes of the current block so far
	idxLen   int64 // bytes of the index so far
	records  uint64
}

type xzState uint8

const (
	xzStreamHeader xzState = iota
	xzBlockOrIndex
	xzChunk
	xzIndexCount
	xzIndexRecords
	xzFooter
	xzStreamPadding
)

var xzCheckSizes = [16]int64{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

func newXZGuard(r io.Reader) *xzGuard { return &xzGuard{r: r} }

func (g *xzGuard) Read(p []byte) (int, error) {
	for g.pos == 0 {
		if g.err != nil {
			return 0, g.err
		}
		if g.rerr != nil && len(g.buf) == 0 {
			return 0, g.rerr
		}
		g.step()
	}
	n := copy(p, g.buf[:g.pos])
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	g.pos -= n
	return n, nil
}

// fill reads more of r; false when r has nothing more.
func (g *xzGuard) fill() bool {
	if g.rerr != nil {
		return false
	}
	if cap(g.buf)-len(g.buf) < 4096 {
		nb := make([]byte, len(g.buf), 2*cap(g.buf)+32<<10)
		copy(nb, g.buf)
		g.buf = nb
	}
	n, err := g.r.Read(g.buf[len(g.buf):cap(g.buf)])
	g.buf = g.buf[:len(g.buf)+n]
	if err != nil {
		g.rerr = err
	}
	return n > 0 || err == nil
}

// need returns the unfollowed bytes once at least n are buffered; nil when r
// ends first (the rest is then passed on).
func (g *xzGuard) need(n int) []byte {
	for len(g.buf)-g.pos < n {
		if !g.fill() {
			g.pass = true
			g.lost = g.state != xzStreamPadding || len(g.buf) > g.pos
			return nil
		}
	}
	return g.buf[g.pos:]
}

func (g *xzGuard) take(n int) { g.pos += n }

func (g *xzGuard) uvarint() (uint64, bool) {
	for {
		v, n := binary.Uvarint(g.buf[g.pos:])
		if n > 0 {
			g.take(n)
			g.idxLen += int64(n)
			return v, true
		}
		if n < 0 || !g.fill() {
			g.pass, g.lost = true, true
			return 0, false
		}
	}
}

// step follows one element of the structure, reading more of r when it must.
func (g *xzGuard) step() {
	if g.pass {
		if len(g.buf) == 0 && !g.fill() {
			return // Read returns r's error
		}
		g.pos = len(g.buf)
		return
	}
	if g.skip > 0 {
		if len(g.buf) == g.pos && !g.fill() {
			g.pass, g.lost = true, true
			return
		}
		t := min(g.skip, int64(len(g.buf)-g.pos))
		g.take(int(t))
		g.skip -= t
		return
	}
	switch g.state {
	case xzStreamHeader:
		b := g.need(12)
		if b == nil {
			return
		}
		if string(b[:6]) != "\xFD7zXZ\x00" {
			g.pass, g.lost = true, true
			return
		}
		g.check = xzCheckSizes[b[7]&0x0F]
		g.take(12)
		g.state = xzBlockOrIndex
	case xzBlockOrIndex:
		b := g.need(1)
		if b == nil {
			return
		}
		if b[0] == 0 {
			g.take(1)
			g.idxLen = 1
			g.state = xzIndexCount
			return
		}
		size := (int(b[0]) + 1) * 4
		if b = g.need(size); b == nil {
			return
		}
		if d := blockDict(b[:size]); d > MaxXZDict {
			g.err = fmt.Errorf("xz: a block asks for a %d MiB dictionary, over the %d MiB this scanner allocates", d>>20, MaxXZDict>>20)
			return
		}
		g.take(size)
		g.blockLen = int64(size)
		g.state = xzChunk
	case xzChunk:
		b := g.need(1)
		if b == nil {
			return
		}
		switch c := b[0]; {
		case c == 0: // end of the block's data: padding to 4 bytes, then its check
			g.take(1)
			g.blockLen++
			g.skip = (4-g.blockLen%4)%4 + g.check
			g.state = xzBlockOrIndex
		case c == 1 || c == 2: // uncompressed chunk
			if b = g.need(3); b == nil {
				return
			}
			size := int64(binary.BigEndian.Uint16(b[1:3])) + 1
			g.take(3)
			g.blockLen += 3 + size
			g.skip = size
		case c >= 0x80: // LZMA chunk: sizes, then a properties byte when it resets them
			hl := 5
			if (c>>5)&3 >= 2 {
				hl = 6
			}
			if b = g.need(hl); b == nil {
				return
			}
			packed := int64(binary.BigEndian.Uint16(b[3:5])) + 1
			g.take(hl)
			g.blockLen += int64(hl) + packed
			g.skip = packed
		default:
			g.pass, g.lost = true, true
		}
	case xzIndexCount:
		if n, ok := g.uvarint(); ok {
			if n > math.MaxUint64/2 {
				g.pass, g.lost = true, true
				return
			}
			g.records = 2 * n
			g.state = xzIndexRecords
		}
	case xzIndexRecords:
		if g.records == 0 {
			g.skip = (4-g.idxLen%4)%4 + 4 // padding, CRC32
			g.state = xzFooter
			return
		}
		if _, ok := g.uvarint(); ok {
			g.records--
		}
	case xzFooter:
		if g.need(12) == nil {
			return
		}
		g.take(12)
		g.state = xzStreamPadding
	case xzStreamPadding:
		b := g.need(4)
		if b == nil {
			return
		}
		switch {
		case string(b[:4]) == "\x00\x00\x00\x00":
			g.take(4)
		case string(b[:4]) == "\xFD7zX":
			g.state = xzStreamHeader
		default:
			g.pass, g.lost = true, true
		}
	}
}

// blockDict returns the LZMA2 dictionary size an xz block header asks for, 0
// when it cannot tell.
func blockDict(h []byte) int64 {
	if len(h) < 2 {
		return 0
	}
	flags := h[1]
	i := 2
	uv := func() (uint64, bool) {
		if i >= len(h) {
			return 0, false
		}
		v, n := binary.Uvarint(h[i:])
		if n <= 0 {
			return 0, false
		}
		i += n
		return v, true
	}
	for _, bit := range []byte{0x40, 0x80} { // compressed and uncompressed sizes
		if flags&bit != 0 {
			if _, ok := uv(); !ok {
				return 0
			}
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := uv()
		psize, ok2 := uv()
		if !ok1 || !ok2 || psize > uint64(len(h)-i) {
			return 0
		}
		if id == 0x21 && psize == 1 {
			p := h[i]
			if p > 40 {
				return 0
			}
			if p == 40 {
				return math.MaxUint32
			}
			return int64(2|p&1) << (p/2 + 11)
		}
		i += int(psize)
	}
	return 0
}
