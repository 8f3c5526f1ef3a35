package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

// writeJSON writes an indented JSON array of findings; "[]" when there are none.
func writeJSON(w io.Writer, fs []finding.Finding) error {
	if fs == nil {
		fs = []finding.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(fs)
}

// writeJSONL writes one compact JSON object per finding, a line each, then,
// with a summary, one {"stats": …} record (Read skips it).
func writeJSONL(w io.Writer, fs []finding.Finding, s *Summary) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range fs {
		if err := enc.Encode(&fs[i]); err != nil {
			return err
		}
	}
	if s != nil {
		if err := enc.Encode(struct {
			Stats Stats `json:"stats"`
		}{s.stats()}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Stats is a run's statistics as JSONL and SARIF carry them: what was scanned
// and every file, blob or archive member that was not, by name.
type Stats struct {
	Files      int64         `json:"files"`
	Blobs      int64         `json:"blobs,omitempty"`
	Bytes      int64         `json:"bytes"`
	Suppressed int           `json:"suppressed"`
	Skipped    []source.Skip `json:"skipped"`
	Problems   []string      `json:"problems"`
}

func (s *Summary) stats() Stats {
	st := Stats{Files: s.Files, Blobs: s.Blobs, Bytes: s.BytesScanned, Suppressed: s.Suppressed,
		Skipped: s.Skipped, Problems: s.Problems}
	if st.Skipped == nil {
		st.Skipped = []source.Skip{}
	}
	if st.Problems == nil {
		st.Problems = []string{}
	}
	return st
}
