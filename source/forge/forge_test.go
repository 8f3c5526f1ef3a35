package forge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// lineScanner reports every line holding SECRET, as a member "!log.txt" when the
// blob is streamed (an archive), and fails on content "broken".
type lineScanner struct{}

func (lineScanner) ScanBlob(b source.Blob) source.Outcome {
	data, member := b.Data, ""
	if b.Open != nil {
		rc, err := b.Open()
		if err != nil {
			return source.Outcome{Err: err}
		}
		data, _ = io.ReadAll(rc)
		rc.Close()
		member = "!log.txt"
	}
	if string(data) == "broken" {
		return source.Outcome{Err: errors.New("cannot decode")}
	}
	var out source.Outcome
	for i, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte("SECRET")) {
			out.Findings = append(out.Findings, finding.Finding{RuleID: "r", File: member, Line: i + 1, Column: 1 + bytes.Index(l, []byte("SECRET"))})
		}
	}
	out.Bytes = int64(len(data))
	return out
}

func TestSourceLocatesByURL(t *testing.T) {
	items := []Item{
		{URL: "https://h/o/r/issues/1", Data: []byte("no\nthe SECRET\n"), Author: "dev", Date: "2026-01-01T00:00:00Z"},
		{URL: "https://h/o/r/pull/2#issuecomment-3", ID: "c3", Data: []byte("broken")},
		{URL: "https://h/o/r/actions/runs/4", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("a\nb\nSECRET"))), nil }},
		{URL: "https://h/o/r/issues/5", Data: nil},
	}
	for _, workers := range []int{1, 3} {
		src := New(items, workers)
		res := src.Scan(context.Background(), lineScanner{})
		tests := []struct {
			file   string
			line   int
			author string
		}{
			{"https://h/o/r/actions/runs/4!log.txt", 3, ""},
			{"https://h/o/r/issues/1", 2, "dev"},
		}
		if len(res.Findings) != len(tests) {
			t.Fatalf("workers %d: findings %+v", workers, res.Findings)
		}
		for i, tt := range tests {
			f := res.Findings[i]
			if f.File != tt.file || f.Line != tt.line || f.Author != tt.author {
				t.Errorf("workers %d: finding %d at %s:%d by %q, want %s:%d by %q", workers, i, f.File, f.Line, f.Author, tt.file, tt.line, tt.author)
			}
		}
		if res.Findings[1].Date != "2026-01-01T00:00:00Z" {
			t.Errorf("date %q", res.Findings[1].Date)
		}
		if res.Stats.Blobs != 4 || len(res.Problems) != 1 || res.Problems[0].Path != "https://h/o/r/pull/2#issuecomment-3" {
			t.Errorf("workers %d: stats %+v, problems %v", workers, res.Stats, res.Problems)
		}
		if !src.Failed("c3") || src.Failed("https://h/o/r/issues/1") {
			t.Errorf("Failed: c3 %v, issue 1 %v", src.Failed("c3"), src.Failed("https://h/o/r/issues/1"))
		}
	}
}

func TestSourceCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := New([]Item{{URL: "https://h/x", Data: []byte("SECRET")}}, 1).Scan(ctx, lineScanner{})
	if len(res.Problems) == 0 {
		t.Error("a cancelled scan has no problem: it would be taken as complete")
	}
}
