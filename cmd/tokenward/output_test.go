package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestProgressWriter(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := terminal
	terminal = w
	defer func() { terminal = old }()
	progressWriter{}.Write([]byte("\r\x1b[Ksweep 1/2 · acme/\x1b[31mevil\n::error::x\r\x1b[K"))
	progressWriter{}.Write([]byte("\r\x1b[Kacme/api: failed: bad\n"))
	w.Close()
	var buf bytes.Buffer
	buf.ReadFrom(r)
	want := "\r\x1b[Ksweep 1/2 · acme/\\x1b[31mevil\n| ::error::x\r\x1b[K\r\x1b[Kacme/api: failed: bad\n"
	if got := buf.String(); got != want {
		t.Errorf("progress:\n got %q\nwant %q", got, want)
	}
	if strings.Count(buf.String(), "\x1b") != 3 {
		t.Errorf("only the erase-line sequences may reach the terminal: %q", buf.String())
	}
}

func TestFilterLines(t *testing.T) {
	var out bytes.Buffer
	in := "tokenward: error: a\r\x1b[2Jb\n::error::forged\n  ##vso[task.setvariable]x\nplain\nno newline"
	filterLines(&out, strings.NewReader(in), safeLine)
	want := "tokenward: error: a\\x0d\\x1b[2Jb\n| ::error::forged\n|   ##vso[task.setvariable]x\nplain\nno newline"
	if out.String() != want {
		t.Errorf("filter:\n got %q\nwant %q", out.String(), want)
	}
}
