package verify

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
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
}

// AuditLog is an append-only JSONL record of revocation attempts. Opening it
// reads the existing records, so fingerprints already revoked are known.
type AuditLog struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	revoked  map[string]string // fingerprint -> time revoked
	operator string
	now      func() time.Time
}

// OpenAudit opens (creating, mode 0600) the audit log at path for appending,
// after reading the records already in it.
func OpenAudit(path string) (*AuditLog, error) {
	a := &AuditLog{path: path, revoked: map[string]string{}, operator: Operator(), now: time.Now}
	if rf, err := os.Open(path); err == nil {
		err := a.load(rf)
		rf.Close()
		if err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("audit log %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %v (choose another file with --audit-log)", path, err)
	}
	a.f = f
	return a, nil
}

// LoadAudit reads the audit log at path, if it exists, for RevokedAt; it opens
// nothing for writing (dry runs). Append on it fails.
func LoadAudit(path string) (*AuditLog, error) {
	a := &AuditLog{path: path, revoked: map[string]string{}, operator: Operator(), now: time.Now}
	rf, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %v", path, err)
	}
	defer rf.Close()
	if err := a.load(rf); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *AuditLog) load(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("%s:%d: not an audit record (%v); fix or move the file, or choose another with --audit-log", a.path, line, err)
		}
		if e.Result == "revoked" && e.Fingerprint != "" {
			if _, seen := a.revoked[e.Fingerprint]; !seen {
				a.revoked[e.Fingerprint] = e.Time
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit log %s: %v", a.path, err)
	}
	return nil
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
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return fmt.Errorf("audit log %s: opened read-only", a.path)
	}
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("audit log %s: %v", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log %s: %v", a.path, err)
	}
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
