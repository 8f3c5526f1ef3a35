package dbfake

import (
	"net"
	"sync"
	"testing"
)

// listener is what every fake server shares: a loopback listener, one
// goroutine per connection, a count of accepted connections and a shutdown
// that waits for them.
type listener struct {
	ln      net.Listener
	mu      sync.Mutex // guards accepts and the embedding fake's records
	accepts int
	wg      sync.WaitGroup
}

func (l *listener) start(t testing.TB, serve func(net.Conn)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.ln = ln
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			l.mu.Lock()
			l.accepts++
			l.mu.Unlock()
			l.wg.Add(1)
			go func() { defer l.wg.Done(); serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); l.wg.Wait() })
}

// Port is the loopback port the server listens on.
func (l *listener) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }
