// Package dbfake runs database servers on loopback for tests: PostgreSQL,
// MySQL and Redis fakes that authenticate as the real servers document.
package dbfake

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// PG is a PostgreSQL server on loopback that authenticates as the real
// server does (cleartext, MD5 or SCRAM-SHA-256 per pg_hba's method) against
// one user and password, answers 28P01 invalid_password otherwise, and
// records every message a client sends after logging in.
type PG struct {
	listener
	method   string // "password", "md5", "scram-sha-256", "busy"
	user, pw string
	after    []string // messages after ReadyForQuery
	logins   int
}

func StartPG(t testing.TB, method, user, pw string) *PG {
	t.Helper()
	s := &PG{method: method, user: user, pw: pw}
	s.start(t, s.serve)
	return s
}

func (s *PG) serve(c net.Conn) {
	defer c.Close()
	be := pgproto3.NewBackend(c, c)
	var sm *pgproto3.StartupMessage
	for sm == nil {
		m, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte("N")); err != nil { // no TLS on this fake
				return
			}
		case *pgproto3.StartupMessage:
			sm = m
		default:
			return
		}
	}
	user := sm.Parameters["user"]
	fail := func(code, msg string) {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: code, Message: msg})
		be.Flush()
	}
	if s.method == "busy" {
		fail("53300", "sorry, too many clients already")
		return
	}
	authFailed := func() { fail("28P01", fmt.Sprintf("password authentication failed for user %q", user)) }
	switch s.method {
	case "password", "md5":
		var salt [4]byte
		rand.Read(salt[:])
		if s.method == "password" {
			be.Send(&pgproto3.AuthenticationCleartextPassword{})
			be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
		} else {
			be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
			be.SetAuthType(pgproto3.AuthTypeMD5Password)
		}
		if be.Flush() != nil {
			return
		}
		m, err := be.Receive()
		pm, ok := m.(*pgproto3.PasswordMessage)
		if err != nil || !ok {
			return
		}
		want := s.pw
		if s.method == "md5" {
			inner := md5.Sum([]byte(s.pw + s.user))
			outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
			want = "md5" + hex.EncodeToString(outer[:])
		}
		if user != s.user || pm.Password != want {
			authFailed()
			return
		}
	case "scram-sha-256":
		if !s.scram(be, user) {
			authFailed()
			return
		}
	}
	s.mu.Lock()
	s.logins++
	s.mu.Unlock()
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "16.4"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 42, SecretKey: []byte{1, 2, 3, 4}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	for {
		m, err := be.Receive()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.after = append(s.after, fmt.Sprintf("%T", m))
		s.mu.Unlock()
		if _, ok := m.(*pgproto3.Terminate); ok {
			return
		}
		fail("0A000", "this fake runs nothing")
	}
}

// scram runs the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as
// PostgreSQL does, with the user name taken from the startup message.
func (s *PG) scram(be *pgproto3.Backend, user string) bool {
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	be.SetAuthType(pgproto3.AuthTypeSASL)
	if be.Flush() != nil {
		return false
	}
	m, err := be.Receive()
	ir, ok := m.(*pgproto3.SASLInitialResponse)
	if err != nil || !ok || ir.AuthMechanism != "SCRAM-SHA-256" {
		return false
	}
	first := string(ir.Data)
	bare, ok := strings.CutPrefix(first, "n,,")
	if !ok {
		return false
	}
	var cnonce string
	for _, f := range strings.Split(bare, ",") {
		if v, ok := strings.CutPrefix(f, "r="); ok {
			cnonce = v
		}
	}
	salt := []byte("tokenward-salt16")
	const iter = 4096
	nonce := cnonce + "srvnonce0123"
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", nonce, base64.StdEncoding.EncodeToString(salt), iter)
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	if be.Flush() != nil {
		return false
	}
	m, err = be.Receive()
	rs, ok := m.(*pgproto3.SASLResponse)
	if err != nil || !ok {
		return false
	}
	final := string(rs.Data)
	i := strings.LastIndex(final, ",p=")
	if i < 0 || !strings.Contains(final[:i], "r="+nonce) {
		return false
	}
	proof, err := base64.StdEncoding.DecodeString(final[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return false
	}
	salted, _ := pbkdf2.Key(sha256.New, s.pw, salt, iter, 32)
	mac := func(k []byte, msg string) []byte {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	authMsg := bare + "," + serverFirst + "," + final[:i]
	sig := mac(stored[:], authMsg)
	got := make([]byte, len(proof))
	for j := range proof {
		got[j] = proof[j] ^ sig[j]
	}
	gotStored := sha256.Sum256(got)
	if user != s.user || !hmac.Equal(gotStored[:], stored[:]) {
		return false
	}
	be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMsg)))})
	return true
}

// After lists the messages clients sent after logging in (their Go types).
func (s *PG) After() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.after...)
}

// Logins counts successful logins.
func (s *PG) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Accepts counts the connections accepted.
func (s *PG) Accepts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}
