package dbfake

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// MySQL is a MySQL server on loopback speaking the connection phase as
// the server documents it: an initial handshake v10 offering
// mysql_native_password, the client's HandshakeResponse41, then OK, or ERR
// 1045 (28000) for a wrong password; afterwards it answers COM_PING and
// records every other command.
type MySQL struct {
	listener
	user, pw string
	busy     bool
	commands []byte // commands after login
}

const (
	myLongPassword     = 0x1
	myConnectWithDB    = 0x8
	myProtocol41       = 0x200
	myTransactions     = 0x2000
	mySecureConn       = 0x8000
	myPluginAuth       = 0x80000
	myPluginAuthLenEnc = 0x200000
)

func StartMySQL(t testing.TB, user, pw string, busy bool) *MySQL {
	t.Helper()
	s := &MySQL{user: user, pw: pw, busy: busy}
	s.start(t, s.serve)
	return s
}

func writePacket(w io.Writer, seq byte, p []byte) error {
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}
	_, err := w.Write(append(h, p...))
	return err
}

func readPacket(r io.Reader) (byte, []byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return h[3], p, err
}

func errPacket(code uint16, state, msg string) []byte {
	p := []byte{0xff, byte(code), byte(code >> 8), '#'}
	return append(append(p, state...), msg...)
}

var okPacket = []byte{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}

func nativeScramble(pw string, scramble []byte) []byte {
	if pw == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(pw))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(append([]byte{}, scramble...), h2[:]...))
	out := make([]byte, 20)
	for i := range out {
		out[i] = h1[i] ^ h3[i]
	}
	return out
}

func (s *MySQL) serve(c net.Conn) {
	defer c.Close()
	scramble := []byte("abcdefghijklmnopqrst") // 20 bytes, no NUL
	caps := uint32(myLongPassword | myConnectWithDB | myProtocol41 | myTransactions | mySecureConn | myPluginAuth | myPluginAuthLenEnc)
	var hs bytes.Buffer
	hs.WriteByte(10)
	hs.WriteString("8.0.36-fake\x00")
	binary.Write(&hs, binary.LittleEndian, uint32(7))
	hs.Write(scramble[:8])
	hs.WriteByte(0)
	binary.Write(&hs, binary.LittleEndian, uint16(caps))
	hs.WriteByte(0xff) // utf8mb4_0900_ai_ci
	binary.Write(&hs, binary.LittleEndian, uint16(2))
	binary.Write(&hs, binary.LittleEndian, uint16(caps>>16))
	hs.WriteByte(21)
	hs.Write(make([]byte, 10))
	hs.Write(scramble[8:])
	hs.WriteByte(0)
	hs.WriteString("mysql_native_password\x00")
	if writePacket(c, 0, hs.Bytes()) != nil {
		return
	}
	seq, p, err := readPacket(c)
	if err != nil || len(p) < 32 {
		return
	}
	if s.busy {
		writePacket(c, seq+1, errPacket(1040, "08004", "Too many connections"))
		return
	}
	clientCaps := binary.LittleEndian.Uint32(p)
	rest := p[32:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return
	}
	user := string(rest[:i])
	rest = rest[i+1:]
	var auth []byte
	switch {
	case clientCaps&myPluginAuthLenEnc != 0 && len(rest) > 0 && rest[0] < 0xfb:
		n := int(rest[0])
		if len(rest) < 1+n {
			return
		}
		auth, rest = rest[1:1+n], rest[1+n:]
	case clientCaps&mySecureConn != 0 && len(rest) > 0:
		n := int(rest[0])
		if len(rest) < 1+n {
			return
		}
		auth, rest = rest[1:1+n], rest[1+n:]
	default:
		return
	}
	_ = rest
	if user != s.user || !bytes.Equal(auth, nativeScramble(s.pw, scramble)) {
		writePacket(c, seq+1, errPacket(1045, "28000", "Access denied for user '"+user+"'@'127.0.0.1' (using password: YES)"))
		return
	}
	if writePacket(c, seq+1, okPacket) != nil {
		return
	}
	for {
		_, p, err := readPacket(c)
		if err != nil || len(p) == 0 {
			return
		}
		s.mu.Lock()
		s.commands = append(s.commands, p[0])
		s.mu.Unlock()
		switch p[0] {
		case 0x0e: // COM_PING
			if writePacket(c, 1, okPacket) != nil {
				return
			}
		case 0x01: // COM_QUIT
			return
		default:
			writePacket(c, 1, errPacket(1047, "08S01", "this fake runs nothing"))
		}
	}
}

// Commands lists the command bytes clients sent after logging in.
func (s *MySQL) Commands() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.commands...)
}

// Accepts counts the connections accepted.
func (s *MySQL) Accepts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}
