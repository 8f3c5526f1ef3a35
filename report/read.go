package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tokenward/tokenward/finding"
)

// Read reads the findings of a tokenward report: JSON (an array of findings)
// or JSONL (one finding a line, and a final {"stats": …} record, which is
// skipped). name is used in error messages. It is the one reader of reports:
// verify, revoke and baseline --from all use it.
func Read(r io.Reader, name string) ([]finding.Finding, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	dec := json.NewDecoder(br)
	var out []finding.Finding
	if first == '[' {
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("%s: not a tokenward JSON report: %v (write one with --format json)", name, err)
		}
	} else {
		for n := 1; ; n++ {
			var raw map[string]json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: record %d: not a tokenward JSON/JSONL report: %v (write reports with --format json or jsonl)", name, n, err)
			}
			if _, sarif := raw["runs"]; sarif {
				return nil, fmt.Errorf("%s: a SARIF report holds no secrets; use a report written with --format json or jsonl --show-secrets", name)
			}
			if _, stats := raw["stats"]; stats && len(raw) == 1 {
				continue
			}
			b, _ := json.Marshal(raw)
			var f finding.Finding
			if err := json.Unmarshal(b, &f); err != nil {
				return nil, fmt.Errorf("%s: record %d: %v", name, n, err)
			}
			out = append(out, f)
		}
	}
	for i, f := range out {
		if f.RuleID == "" {
			return nil, fmt.Errorf("%s: finding %d has no rule_id; is this a tokenward report?", name, i+1)
		}
	}
	return out, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == 0xEF || b == 0xBB || b == 0xBF {
			continue
		}
		return b, br.UnreadByte()
	}
}
