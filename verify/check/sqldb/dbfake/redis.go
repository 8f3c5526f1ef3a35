package dbfake

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Redis is a Redis server on loopback speaking RESP2 as the AUTH and
// HELLO commands document: HELLO [2|3] AUTH user pass answers the server map
// or -WRONGPASS; AUTH [user] pass answers +OK or -WRONGPASS (legacy mode: the
// pre-6 "-ERR unknown command" for HELLO and "-ERR invalid password" for
// AUTH); PING answers +PONG once authenticated, -NOAUTH before. It records
// every command name.
type Redis struct {
	listener
	user, pw string
	mode     string // "acl" (Redis 6+), "legacy" (before 6), "busy"
	cmds     []string
}

func StartRedis(t testing.TB, mode, user, pw string) *Redis {
	t.Helper()
	s := &Redis{user: user, pw: pw, mode: mode}
	s.start(t, s.serve)
	return s
}

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 1 || n > 16 {
		return nil, fmt.Errorf("bad array length %q", line)
	}
	out := make([]string, 0, n)
	for range n {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(h, "$")))
		if err != nil || l < 0 || l > 4096 {
			return nil, fmt.Errorf("bad bulk length %q", h)
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		out = append(out, string(b[:l]))
	}
	return out, nil
}

const helloReply = "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"

func (s *Redis) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	authed := false
	wrong := "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	if s.mode == "legacy" {
		wrong = "-ERR invalid password\r\n"
	}
	check := func(user, pw string) bool {
		if user == "" {
			user = "default"
		}
		return user == s.user && pw == s.pw
	}
	for {
		cmd, err := readCommand(r)
		if err != nil {
			return
		}
		name := strings.ToUpper(cmd[0])
		s.mu.Lock()
		s.cmds = append(s.cmds, name)
		s.mu.Unlock()
		var reply string
		switch {
		case s.mode == "busy":
			reply = "-ERR max number of clients reached\r\n"
		case name == "HELLO" && s.mode == "legacy":
			reply = "-ERR unknown command 'HELLO', with args beginning with: \r\n"
		case name == "HELLO":
			reply = helloReply
			for i := 1; i+2 < len(cmd); i++ {
				if strings.EqualFold(cmd[i], "AUTH") {
					if authed = check(cmd[i+1], cmd[i+2]); !authed {
						reply = wrong
					}
				}
			}
		case name == "AUTH" && len(cmd) == 2:
			if authed = check("", cmd[1]); authed {
				reply = "+OK\r\n"
			} else {
				reply = wrong
			}
		case name == "AUTH" && len(cmd) == 3 && s.mode != "legacy":
			if authed = check(cmd[1], cmd[2]); authed {
				reply = "+OK\r\n"
			} else {
				reply = wrong
			}
		case name == "PING" && authed:
			reply = "+PONG\r\n"
		case name == "PING":
			reply = "-NOAUTH Authentication required.\r\n"
		case name == "QUIT":
			c.Write([]byte("+OK\r\n"))
			return
		default:
			reply = "-ERR this fake runs nothing\r\n"
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

// Commands lists the command names clients sent.
func (s *Redis) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

// Accepts counts the connections accepted.
func (s *Redis) Accepts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts
}
