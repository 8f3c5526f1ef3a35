package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/tokenward/tokenward/finding"
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

// writeJSONL writes one compact JSON object per line; nothing when there are none.
func writeJSONL(w io.Writer, fs []finding.Finding) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range fs {
		if err := enc.Encode(&fs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}
