package verify

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"
)

// AuditEntry is one line of the audit log. It never holds a secret.
type AuditEntry struct {
	Time         string `json:"time"`
	Fingerprint  string `json:"fingerprint"`
	Rule         string `json:"rule"`
	EndpointHost string `json:"endpoint_host,omitempty"`
	Action       string `json:"action"` // see the Action* constants
	Result       string `json:"result"` // the verification status after the action
	HTTPStatus   int    `json:"http_status,omitempty"`
	Detail       string `json:"detail,omitempty"`
	Operator     string `json:"operator"`
	// Seq numbers the records from 1; a gap or a repeat shows a removed or
	// replayed line.
	Seq int `json:"seq,omitempty"`
	// MAC is hex HMAC-SHA256, under the log's key, of the record's JSON with
	// MAC empty: a record edited or written without the key does not match.
	MAC string `json:"mac,omitempty"`
}

// AuditLog is an append-only JSONL record of revocation attempts. Each record
// carries a sequence number and a keyed MAC (HMAC-SHA256); the key is kept, mode
// 0600, in a file beside the log (AuditKeyPath) and created with the log.
// Opening it checks every record: an edited, forged, unsigned, removed or
// replayed line is reported (Problems) and not believed, so RevokedAt only
// knows fingerprints that verified records mark revoked. (Removing the last
// records, or the whole log, cannot be detected from the log alone.)
type AuditLog struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	key      []byte            // nil: no key (a dry run over a log whose key is missing)
	seq      int               // the highest sequence number seen
	revoked  map[string]string // fingerprint -> time revoked
	problems []string
	operator string
	now      func() time.Time
}

// AuditKeyPath is where the MAC key of the audit log at path is kept.
func AuditKeyPath(path string) string { return path + ".key" }

// OpenAudit opens (creating, mode 0600) the audit log at path for appending,
// after reading and checking the records already in it. Its key is read from
// AuditKeyPath(path), or created there when no record in the log is signed; a
// signed log whose key is missing, a key readable by others or a record that is
// not JSON is an error.
func OpenAudit(path string) (*AuditLog, error) {
	a := &AuditLog{path: path, revoked: map[string]string{}, operator: Operator(), now: time.Now}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("audit log %s: %v", path, err)
	}
	recs, err := a.parse(data)
	if err != nil {
		return nil, err
	}
	if a.key, err = readAuditKey(path); errors.Is(err, os.ErrNotExist) {
		for _, r := range recs {
			if r.e.MAC != "" {
				return nil, fmt.Errorf("audit log %s holds signed records but its key %s is missing: restore the key, or move the log aside to start a new one", path, AuditKeyPath(path))
			}
		}
		a.key, err = createAuditKey(path)
	}
	if err != nil {
		return nil, err
	}
	a.check(recs)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %v (choose another file with --audit-log)", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// A last line without its newline (edited by hand): keep records apart.
		if _, err := f.WriteString("\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit log %s: %v", path, err)
		}
	}
	a.f = f
	return a, nil
}

// LoadAudit reads and checks the audit log at path, if it exists, for RevokedAt
// and Problems; it opens nothing for writing and creates no key (dry runs).
// Append on it fails.
func LoadAudit(path string) (*AuditLog, error) {
	a := &AuditLog{path: path, revoked: map[string]string{}, operator: Operator(), now: time.Now}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %v", path, err)
	}
	recs, err := a.parse(data)
	if err != nil {
		return nil, err
	}
	if a.key, err = readAuditKey(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	a.check(recs)
	return a, nil
}

type auditRecord struct {
	line int
	e    AuditEntry
}

func (a *AuditLog) parse(data []byte) ([]auditRecord, error) {
	var out []auditRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: not an audit record (%v); fix or move the file, or choose another with --audit-log", a.path, line, err)
		}
		out = append(out, auditRecord{line, e})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log %s: %v", a.path, err)
	}
	return out, nil
}

// check verifies each record's MAC and sequence number; only verified records
// count. Each failure becomes a problem naming the file and line.
func (a *AuditLog) check(recs []auditRecord) {
	seen := map[int]int{} // seq -> line
	want := 1
	for _, r := range recs {
		problem := func(msg string) {
			a.problems = append(a.problems, fmt.Sprintf("%s:%d: %s; the record is ignored", a.path, r.line, msg))
		}
		a.seq = max(a.seq, r.e.Seq)
		switch {
		case r.e.MAC == "":
			problem("no MAC (written by hand, or by a tokenward older than audit MACs)")
			continue
		case a.key == nil:
			problem("cannot be checked: the key " + AuditKeyPath(a.path) + " is missing")
			continue
		case !hmac.Equal([]byte(r.e.MAC), []byte(a.mac(r.e))):
			problem("MAC does not match: the record was edited, or written without the key (forged)")
			continue
		}
		if first, dup := seen[r.e.Seq]; dup {
			problem(fmt.Sprintf("repeats record %d (line %d): a replayed line", r.e.Seq, first))
			continue
		}
		seen[r.e.Seq] = r.line
		if r.e.Seq > want {
			a.problems = append(a.problems, fmt.Sprintf("%s:%d: record %d is missing before this record (%d): lines were removed", a.path, r.line, want, r.e.Seq))
			if r.e.Seq > want+1 {
				a.problems[len(a.problems)-1] = fmt.Sprintf("%s:%d: records %d to %d are missing before this record (%d): lines were removed", a.path, r.line, want, r.e.Seq-1, r.e.Seq)
			}
		}
		want = max(want, r.e.Seq+1)
		if r.e.Result == "revoked" && r.e.Fingerprint != "" {
			if _, ok := a.revoked[r.e.Fingerprint]; !ok {
				a.revoked[r.e.Fingerprint] = r.e.Time
			}
		}
	}
}

// mac is the hex HMAC-SHA256 of e's JSON with MAC empty.
func (a *AuditLog) mac(e AuditEntry) string {
	e.MAC = ""
	b, _ := json.Marshal(e) // a struct of strings and ints cannot fail
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("tokenward-audit-v1\x00"))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// readAuditKey reads the key beside the log; it must be 0600 (or stricter).
func readAuditKey(path string) ([]byte, error) {
	kp := AuditKeyPath(path)
	st, err := os.Stat(kp)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("audit key %s is readable by others (mode %04o): chmod 600 %s", kp, st.Mode().Perm(), kp)
	}
	b, err := os.ReadFile(kp)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %v", kp, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("audit key %s is not a key tokenward wrote (hex, 32 bytes): restore it, or move the log and key aside to start anew", kp)
	}
	return key, nil
}

// createAuditKey writes a new random key beside the log, mode 0600.
func createAuditKey(path string) ([]byte, error) {
	kp := AuditKeyPath(path)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("audit key: %v", err)
	}
	f, err := os.OpenFile(kp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %v (choose another log with --audit-log)", kp, err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %v", kp, err)
	}
	return key, nil
}

// Problems lists the records that failed their check, as "FILE:LINE: what".
func (a *AuditLog) Problems() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.problems...)
}

// RevokedAt reports when the audit log first recorded fingerprint as revoked.
func (a *AuditLog) RevokedAt(fingerprint string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.revoked[fingerprint]
	return t, ok
}

// Append writes one record (filling Time and Operator when empty) and syncs it
// to disk.
func (a *AuditLog) Append(e AuditEntry) error {
	if e.Time == "" {
		e.Time = a.now().UTC().Format(time.RFC3339Nano)
	}
	if e.Operator == "" {
		e.Operator = a.operator
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil || a.key == nil {
		return fmt.Errorf("audit log %s: opened read-only", a.path)
	}
	e.Seq = a.seq + 1
	e.MAC = a.mac(e)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("audit log %s: %v", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log %s: %v", a.path, err)
	}
	a.seq = e.Seq
	if e.Result == "revoked" {
		if _, seen := a.revoked[e.Fingerprint]; !seen {
			a.revoked[e.Fingerprint] = e.Time
		}
	}
	return nil
}

// Close closes the file.
func (a *AuditLog) Close() error {
	if a.f == nil {
		return nil
	}
	return a.f.Close()
}

// Operator names who runs tokenward: $USER, else $LOGNAME, else the account name.
func Operator() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
