package dbfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Mongo is a MongoDB server on loopback speaking the wire protocol as the
// server documents it: the first hello (OP_QUERY isMaster, or OP_MSG hello)
// answered with the server's description and saslSupportedMechs
// SCRAM-SHA-256; saslStart / saslContinue running the server side of
// SCRAM-SHA-256 against one user and password, or error 18
// AuthenticationFailed; ping only once authenticated (else 13 Unauthorized).
// It records every command name.
type Mongo struct {
	listener
	user, pw string
	busy     bool
	cmds     []string
}

const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013
)

// StartMongo runs the fake; busy answers every command with an error that is
// not an authentication failure (a server shutting down).
func StartMongo(t testing.TB, user, pw string, busy bool) *Mongo {
	s := &Mongo{user: user, pw: pw, busy: busy}
	s.start(t, s.serve)
	return s
}

// Port is the fake's TCP port.
// Accepts counts the connections accepted.
func (s *Mongo) Accepts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}

// Commands lists the command names received.
func (s *Mongo) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

func cstring(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

func (s *Mongo) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var conv *scramConv
	authed := false
	for reqID := int32(1); ; reqID++ {
		var h [16]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		n := int32(binary.LittleEndian.Uint32(h[0:]))
		id := int32(binary.LittleEndian.Uint32(h[4:]))
		op := int32(binary.LittleEndian.Uint32(h[12:]))
		if n < 16 || n > 1<<20 {
			return
		}
		body := make([]byte, n-16)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		var doc bson.Raw
		switch op {
		case opQuery:
			if len(body) < 4 {
				return
			}
			_, rest, ok := cstring(body[4:])
			if !ok || len(rest) < 8 {
				return
			}
			doc = bson.Raw(rest[8:])
		case opMsg:
			if len(body) < 5 || body[4] != 0 {
				return
			}
			doc = bson.Raw(body[5:])
		default:
			return
		}
		if len(doc) < 5 {
			return
		}
		doc = doc[:binary.LittleEndian.Uint32(doc)]
		elems, err := doc.Elements()
		if err != nil || len(elems) == 0 {
			return
		}
		name := elems[0].Key()
		s.mu.Lock()
		s.cmds = append(s.cmds, name)
		s.mu.Unlock()
		var reply bson.D
		fail := func(code int32, codeName, msg string) bson.D {
			return bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: msg}, {Key: "code", Value: code}, {Key: "codeName", Value: codeName}}
		}
		switch {
		case strings.EqualFold(name, "isMaster") || name == "hello":
			reply = bson.D{{Key: "helloOk", Value: true}, {Key: "ismaster", Value: true}, {Key: "isWritablePrimary", Value: true},
				{Key: "maxBsonObjectSize", Value: int32(16777216)}, {Key: "maxMessageSizeBytes", Value: int32(48000000)},
				{Key: "maxWriteBatchSize", Value: int32(100000)}, {Key: "localTime", Value: bson.NewDateTimeFromTime(time.Now())},
				{Key: "logicalSessionTimeoutMinutes", Value: int32(30)}, {Key: "connectionId", Value: reqID},
				{Key: "minWireVersion", Value: int32(0)}, {Key: "maxWireVersion", Value: int32(21)}, {Key: "readOnly", Value: false}}
			if _, err := doc.LookupErr("saslSupportedMechs"); err == nil {
				reply = append(reply, bson.E{Key: "saslSupportedMechs", Value: bson.A{"SCRAM-SHA-256"}})
			}
			reply = append(reply, bson.E{Key: "ok", Value: 1.0})
		case s.busy:
			reply = fail(91, "ShutdownInProgress", "The server is in quiesce mode and will shut down")
		case name == "saslStart":
			mech, _ := doc.Lookup("mechanism").StringValueOK()
			_, payload, _ := doc.Lookup("payload").BinaryOK()
			conv = &scramConv{user: s.user, pw: s.pw}
			first, ok := conv.first(string(payload))
			if mech != "SCRAM-SHA-256" || !ok {
				reply = fail(18, "AuthenticationFailed", "Authentication failed.")
				break
			}
			reply = bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: false},
				{Key: "payload", Value: bson.Binary{Data: []byte(first)}}, {Key: "ok", Value: 1.0}}
		case name == "saslContinue" && conv != nil && authed:
			reply = bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: true}, {Key: "payload", Value: bson.Binary{Data: []byte{}}}, {Key: "ok", Value: 1.0}}
		case name == "saslContinue" && conv != nil:
			_, payload, _ := doc.Lookup("payload").BinaryOK()
			final, ok := conv.final(string(payload))
			if !ok {
				reply = fail(18, "AuthenticationFailed", "Authentication failed.")
				break
			}
			authed = true
			reply = bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: true},
				{Key: "payload", Value: bson.Binary{Data: []byte(final)}}, {Key: "ok", Value: 1.0}}
		case (name == "ping" || name == "endSessions") && authed:
			reply = bson.D{{Key: "ok", Value: 1.0}}
		case name == "ping" || name == "endSessions":
			reply = fail(13, "Unauthorized", "command "+name+" requires authentication")
		default:
			reply = fail(59, "CommandNotFound", "no such command: '"+name+"' (this fake runs nothing)")
		}
		out, err := bson.Marshal(reply)
		if err != nil {
			return
		}
		var msg bytes.Buffer
		le := func(v any) { binary.Write(&msg, binary.LittleEndian, v) }
		if op == opQuery {
			le(int32(36 + len(out)))
			le(reqID)
			le(id)
			le(int32(opReply))
			le(int32(0))
			le(int64(0))
			le(int32(0))
			le(int32(1))
		} else {
			le(int32(21 + len(out)))
			le(reqID)
			le(id)
			le(int32(opMsg))
			le(uint32(0))
			msg.WriteByte(0)
		}
		msg.Write(out)
		if _, err := c.Write(msg.Bytes()); err != nil {
			return
		}
	}
}

// scramConv is the server side of one SCRAM-SHA-256 conversation (RFC 5802,
// RFC 7677).
type scramConv struct {
	user, pw          string
	bare, serverFirst string
	nonce             string
	salted, storedKey []byte
}

func mac(k []byte, msg string) []byte {
	h := hmac.New(sha256.New, k)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func (s *scramConv) first(clientFirst string) (string, bool) {
	bare, ok := strings.CutPrefix(clientFirst, "n,,")
	if !ok {
		return "", false
	}
	var user, cnonce string
	for _, f := range strings.Split(bare, ",") {
		if v, ok := strings.CutPrefix(f, "n="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(f, "r="); ok {
			cnonce = v
		}
	}
	if user != s.user || cnonce == "" {
		return "", false
	}
	salt := []byte("tokenward-mongo-salt")
	const iter = 15000
	s.bare, s.nonce = bare, cnonce+"srvnonce4567"
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(salt), iter)
	s.salted, _ = pbkdf2.Key(sha256.New, s.pw, salt, iter, 32)
	sk := sha256.Sum256(mac(s.salted, "Client Key"))
	s.storedKey = sk[:]
	return s.serverFirst, true
}

func (s *scramConv) final(clientFinal string) (string, bool) {
	i := strings.LastIndex(clientFinal, ",p=")
	if i < 0 || !strings.Contains(clientFinal[:i], "r="+s.nonce) {
		return "", false
	}
	proof, err := base64.StdEncoding.DecodeString(clientFinal[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return "", false
	}
	authMsg := s.bare + "," + s.serverFirst + "," + clientFinal[:i]
	sig := mac(s.storedKey, authMsg)
	key := make([]byte, len(proof))
	for j := range proof {
		key[j] = proof[j] ^ sig[j]
	}
	got := sha256.Sum256(key)
	if !hmac.Equal(got[:], s.storedKey) {
		return "", false
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(mac(s.salted, "Server Key"), authMsg)), true
}
