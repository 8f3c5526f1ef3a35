package finding

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Fingerprint forms. Current fingerprints are "tw1:" and 64 lower-case hex digits:
// HMAC-SHA256 under the project's fingerprint key. Legacy fingerprints (before
// tw1) are "sha256:" and 64 hex digits: an unsalted SHA-256 of rule and secret,
// which a weak secret can be recovered from. Legacy fingerprints are still
// recognised when reading baselines and ignore files; nothing writes them.
const (
	FingerprintPrefix       = "tw1:"
	LegacyFingerprintPrefix = "sha256:"
)

// Key sources, in the order LoadKey tries them.
const (
	// KeyEnv holds the key itself (at least 16 bytes; e.g. 64 hex digits from
	// `openssl rand -hex 32`): the way to give CI the project's key.
	KeyEnv = "TOKENWARD_FINGERPRINT_KEY"
	// KeyFileEnv names a file holding the key.
	KeyFileEnv = "TOKENWARD_FINGERPRINT_KEY_FILE"
	// ProjectKeyFile is a project's key, committed at the top of its
	// repository (or the scanned directory): every clone, CI run and fork
	// then computes the same fingerprints with no secret to distribute. It
	// protects what travels without the repository (SARIF uploads, reports,
	// sweep stores), not against readers of the repository, who can read its
	// secrets anyway.
	ProjectKeyFile = ".tokenward-fingerprint.key"
	// KeyFileName is the per-user key file under the user's configuration
	// directory (os.UserConfigDir()/tokenward/), created 0600 on first use.
	KeyFileName = "fingerprint.key"
)

// MinKeyLen is the shortest key accepted, in bytes.
const MinKeyLen = 16

var keyState struct {
	mu  sync.RWMutex
	key []byte
	id  string
	set bool // by SetKey, not generated
}

// legacy remembers, for fingerprints computed in this process, the legacy form
// of the same rule and material, so that baselines and ignore files written
// before tw1 still match. Bounded: past maxLegacy entries, new fingerprints
// are not remembered (run `tokenward baseline update` to migrate).
var legacy sync.Map // tw1 fingerprint -> sha256 fingerprint

const maxLegacy = 1 << 18

var legacyCount struct {
	sync.Mutex
	n int
}

// SetKey sets the fingerprint key for this process. Every fingerprint computed
// afterwards uses it; call it before scanning. A key shorter than MinKeyLen is
// refused.
func SetKey(key []byte) error {
	if len(key) < MinKeyLen {
		return fmt.Errorf("fingerprint key is %d bytes: want at least %d (e.g. the 64 hex digits of `openssl rand -hex 32`)", len(key), MinKeyLen)
	}
	keyState.mu.Lock()
	defer keyState.mu.Unlock()
	keyState.key = append([]byte(nil), key...)
	keyState.id = keyID(keyState.key)
	keyState.set = true
	return nil
}

// KeyIsSet reports whether SetKey gave the key (false: a one-off random key,
// whose fingerprints nothing else will reproduce).
func KeyIsSet() bool {
	keyState.mu.RLock()
	defer keyState.mu.RUnlock()
	return keyState.set
}

// KeyID is a short public identifier of the process's fingerprint key (it
// reveals nothing of the key): equal ids mean equal fingerprints for the same
// secret, so a baseline made elsewhere can be checked to match.
func KeyID() string {
	_, id := currentKey()
	return id
}

func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tokenward fingerprint key id"))
	return hex.EncodeToString(m.Sum(nil))[:12]
}

// currentKey returns the key, generating a random one for this process when
// none was set: fingerprints are then unguessable but match nothing stored.
func currentKey() ([]byte, string) {
	keyState.mu.RLock()
	k, id := keyState.key, keyState.id
	keyState.mu.RUnlock()
	if k != nil {
		return k, id
	}
	keyState.mu.Lock()
	defer keyState.mu.Unlock()
	if keyState.key == nil {
		keyState.key = make([]byte, 32)
		if _, err := rand.Read(keyState.key); err != nil {
			panic("fingerprint key: " + err.Error())
		}
		keyState.id = keyID(keyState.key)
	}
	return keyState.key, keyState.id
}

// LoadKey finds the fingerprint key: $TOKENWARD_FINGERPRINT_KEY, else the file
// named by $TOKENWARD_FINGERPRINT_KEY_FILE, else ProjectKeyFile in root or the
// nearest directory above it up to the repository top (the directory holding
// .git), else the per-user key file (UserKeyPath), which is created with a
// random key, mode 0600, when missing. root "" skips the project key. origin
// says which was used, for messages.
func LoadKey(root string) (key []byte, origin string, err error) {
	if v := os.Getenv(KeyEnv); v != "" {
		k := []byte(strings.TrimSpace(v))
		if len(k) < MinKeyLen {
			return nil, "", fmt.Errorf("$%s is %d bytes: want at least %d (e.g. `openssl rand -hex 32`)", KeyEnv, len(k), MinKeyLen)
		}
		return k, "$" + KeyEnv, nil
	}
	if p := os.Getenv(KeyFileEnv); p != "" {
		k, err := readKeyFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("$%s: %w", KeyFileEnv, err)
		}
		return k, p, nil
	}
	if p := findProjectKey(root); p != "" {
		k, err := readKeyFile(p)
		if err != nil {
			return nil, "", err
		}
		return k, p, nil
	}
	p, err := UserKeyPath()
	if err != nil {
		return nil, "", fmt.Errorf("no fingerprint key: set $%s or $%s (%v)", KeyEnv, KeyFileEnv, err)
	}
	k, err := readKeyFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = createKeyFile(p)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w (or set $%s)", err, KeyEnv)
	}
	return k, p, nil
}

// findProjectKey looks for ProjectKeyFile from root upwards, stopping at the
// first directory that holds .git.
func findProjectKey(root string) string {
	if root == "" {
		return ""
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		return ""
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	for {
		p := filepath.Join(dir, ProjectKeyFile)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return ""
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// UserKeyPath is where the per-user fingerprint key lives.
func UserKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokenward", KeyFileName), nil
}

func readKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k := []byte(strings.TrimSpace(string(data)))
	if len(k) < MinKeyLen {
		return nil, fmt.Errorf("%s: the key is %d bytes, want at least %d: put e.g. the output of `openssl rand -hex 32` in it", path, len(k), MinKeyLen)
	}
	return k, nil
}

// createKeyFile writes a new random key (64 hex digits) to path, mode 0600,
// without replacing a file another process created meanwhile.
func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the fingerprint key %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	k := []byte(hex.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the fingerprint key %s: %w", path, err)
	}
	_, werr := f.Write(append(k, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("creating the fingerprint key %s: %w", path, werr)
	}
	return k, nil
}

// Fingerprint is the stable identity of a secret (or, for hygiene findings, of
// the material that identifies the problem) under a rule: it survives line
// moves, renames and rebases, and is the same on every machine that uses the
// same fingerprint key. It is keyed, so a weak secret cannot be recovered from
// it by guessing. Every fingerprint in tokenward is made here.
func Fingerprint(ruleID, secret string) string {
	key, _ := currentKey()
	m := hmac.New(sha256.New, key)
	writeMaterial(m, ruleID, secret)
	fp := FingerprintPrefix + hex.EncodeToString(m.Sum(nil))
	if _, ok := legacy.Load(fp); !ok {
		legacyCount.Lock()
		if legacyCount.n < maxLegacy {
			if _, loaded := legacy.LoadOrStore(fp, LegacyFingerprint(ruleID, secret)); !loaded {
				legacyCount.n++
			}
		}
		legacyCount.Unlock()
	}
	return fp
}

type byteWriter interface{ Write([]byte) (int, error) }

func writeMaterial(h byteWriter, ruleID, secret string) {
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(secret))
}

// LegacyFingerprint is the pre-tw1 form, sha256:hex(SHA-256(rule NUL secret)).
// It is computed only to recognise old baseline and ignore entries.
func LegacyFingerprint(ruleID, secret string) string {
	h := sha256.New()
	writeMaterial(h, ruleID, secret)
	return LegacyFingerprintPrefix + hex.EncodeToString(h.Sum(nil))
}

// LegacyOf returns the legacy form of a fingerprint computed in this process,
// if it is known.
func LegacyOf(fp string) (string, bool) {
	v, ok := legacy.Load(fp)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// ValidFingerprint reports whether s is a fingerprint in the current (tw1:) or
// legacy (sha256:) form: the prefix and 64 lower-case hex digits.
func ValidFingerprint(s string) bool {
	var rest string
	switch {
	case strings.HasPrefix(s, FingerprintPrefix):
		rest = s[len(FingerprintPrefix):]
	case strings.HasPrefix(s, LegacyFingerprintPrefix):
		rest = s[len(LegacyFingerprintPrefix):]
	default:
		return false
	}
	if len(rest) != 64 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// IsLegacyFingerprint reports whether fp is in the legacy sha256: form.
func IsLegacyFingerprint(fp string) bool { return strings.HasPrefix(fp, LegacyFingerprintPrefix) }

// HasFingerprintPrefix reports whether s starts like a fingerprint of either
// form (for telling fingerprints from other words, e.g. in ignore files).
func HasFingerprintPrefix(s string) bool {
	return strings.HasPrefix(s, FingerprintPrefix) || strings.HasPrefix(s, LegacyFingerprintPrefix)
}

// MatchFingerprint reports whether a stored fingerprint (current or legacy
// form) names the finding fingerprint fp.
func MatchFingerprint(stored, fp string) bool {
	if stored == "" || fp == "" {
		return false
	}
	if stored == fp {
		return true
	}
	if IsLegacyFingerprint(stored) {
		l, ok := LegacyOf(fp)
		return ok && l == stored
	}
	return false
}

// CompositeFingerprint is the fingerprint of a composite credential: the
// primary secret under its rule together with every part (rule and secret),
// in a stable order (by part rule id, then secret), so the same pair found
// again, in either line order, has the same identity. It differs from the
// primary's Fingerprint alone: a key id reported without its secret key and
// the pair are two findings.
func CompositeFingerprint(ruleID, secret string, parts []Part) string {
	if len(parts) == 0 {
		return Fingerprint(ruleID, secret)
	}
	ps := make([]Part, len(parts))
	copy(ps, parts)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].RuleID != ps[j].RuleID {
			return ps[i].RuleID < ps[j].RuleID
		}
		return ps[i].Secret < ps[j].Secret
	})
	key, _ := currentKey()
	m := hmac.New(sha256.New, key)
	m.Write([]byte("composite\x00"))
	writeMaterial(m, ruleID, secret)
	for _, p := range ps {
		m.Write([]byte{0, 0})
		writeMaterial(m, p.RuleID, p.Secret)
	}
	return FingerprintPrefix + hex.EncodeToString(m.Sum(nil))
}
