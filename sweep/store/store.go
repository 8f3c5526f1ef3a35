// Package store is the sweep datastore: an embedded SQLite database (WAL mode)
// holding repositories, the blobs already scanned under each rule set with their
// findings, findings deduplicated by fingerprint with every location kept,
// verification results and triage state. Each repository is written in one
// transaction, so a killed sweep loses at most the repository in flight.
package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tokenward/tokenward/finding"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver (no cgo)
)

// SchemaVersion is PRAGMA user_version of a current store.
const SchemaVersion = 7

// migrations[v] brings a store of version v+1 to version v+2.
var migrations = []string{
	// 1 -> 2: listing stamps.
	`ALTER TABLE repositories ADD COLUMN remote_stamp TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN fetched_at TEXT NOT NULL DEFAULT '';`,
	// 2 -> 3: blob results cached before history scans were exact may lack findings
	// of blobs stored as packed deltas (issue 14): drop them, and the scan keys that
	// let repositories skip a rescan. Findings and verifications are kept.
	`DELETE FROM scanned_blobs;
UPDATE repositories SET scan_key = '';`,
	// 3 -> 4: what a live credential reaches (finding.Access as JSON).
	`ALTER TABLE verifications ADD COLUMN access TEXT NOT NULL DEFAULT '';`,
	// 4 -> 5: forge items (issues, comments, logs...): what each was when last
	// scanned. Self-contained: it only adds a table.
	forgeItemsTable,
	// 5 -> 6: container images. Layer results by diff ID (like scanned_blobs,
	// per scan key), and the layer that deletes a location's file.
	imageLayersMigration,
	// 6 -> 7: object results by ETag (tokenward s3; objects.go). Self-contained:
	// it only adds a table.
	objectsSchema,
}

// forgeItemsTable records, per collection of forge items (a repositories row
// whose url is the collection's key), the stamp of every item scanned: an item
// whose stamp is unchanged is not fetched or scanned again.
const forgeItemsTable = `CREATE TABLE IF NOT EXISTS forge_items (
  collection TEXT NOT NULL,                 -- repositories.url of the collection
  item       TEXT NOT NULL,                 -- the item's web URL
  stamp      TEXT NOT NULL,                 -- updated_at, or a digest of the content
  PRIMARY KEY (collection, item)
) WITHOUT ROWID;`

// imageLayersMigration is one self-contained step (its statements are also part
// of schema): it may be renumbered when other steps land beside it.
const imageLayersMigration = `CREATE TABLE IF NOT EXISTS scanned_layers (
  scan_key TEXT NOT NULL,
  diff_id  TEXT NOT NULL,                   -- sha256:... of the uncompressed layer
  result   TEXT NOT NULL,                   -- JSON: findings, skipped files and whiteouts, positioned in the layer
  PRIMARY KEY (scan_key, diff_id)
) WITHOUT ROWID;
ALTER TABLE locations ADD COLUMN deleted TEXT NOT NULL DEFAULT '';`

const schema = `
CREATE TABLE IF NOT EXISTS repositories (
  url           TEXT PRIMARY KEY,           -- clone URL without credentials, or a local path
  name          TEXT NOT NULL,              -- owner/name as shown in reports
  source        TEXT NOT NULL DEFAULT '',   -- github:ORG, gitlab:GROUP, file:PATH
  refs_digest   TEXT NOT NULL DEFAULT '',   -- sha256 of the refs at the last complete scan
  scan_key      TEXT NOT NULL DEFAULT '',   -- rules and options of that scan
  status        TEXT NOT NULL,              -- ok | incomplete | error
  detail        TEXT NOT NULL DEFAULT '',   -- what went wrong (incomplete, error)
  refs          INTEGER NOT NULL DEFAULT 0,
  commits       INTEGER NOT NULL DEFAULT 0,
  blobs         INTEGER NOT NULL DEFAULT 0,
  blobs_scanned INTEGER NOT NULL DEFAULT 0,
  blobs_cached  INTEGER NOT NULL DEFAULT 0,
  bytes_scanned INTEGER NOT NULL DEFAULT 0,
  findings      INTEGER NOT NULL DEFAULT 0,
  scanned_at    TEXT NOT NULL DEFAULT '',   -- last scan (RFC 3339, UTC)
  checked_at    TEXT NOT NULL DEFAULT '',   -- last sweep that looked at it
  remote_stamp  TEXT NOT NULL DEFAULT '',   -- the listing's last-push time when refs_digest was taken
  fetched_at    TEXT NOT NULL DEFAULT ''    -- last time the mirror was checked against the remote
);
CREATE TABLE IF NOT EXISTS scanned_blobs (
  scan_key TEXT NOT NULL,
  blob     BLOB NOT NULL,                   -- git object id (20 or 32 bytes)
  class    BLOB NOT NULL,                   -- path class (which path rules apply)
  findings TEXT,                            -- JSON array positioned in the blob, NULL if none
  PRIMARY KEY (scan_key, blob, class)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
  fingerprint TEXT PRIMARY KEY,
  rule_id     TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  severity    TEXT NOT NULL DEFAULT '',
  kind        TEXT NOT NULL DEFAULT '',
  secret      TEXT NOT NULL DEFAULT '',
  redacted    TEXT NOT NULL DEFAULT '',
  entropy     REAL NOT NULL DEFAULT 0,
  tags        TEXT NOT NULL DEFAULT '[]',
  first_seen  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS locations (
  fingerprint TEXT NOT NULL,
  repo        TEXT NOT NULL,
  commit_id   TEXT NOT NULL,
  path        TEXT NOT NULL,
  line        INTEGER NOT NULL,
  col         INTEGER NOT NULL,
  end_line    INTEGER NOT NULL DEFAULT 0,
  end_col     INTEGER NOT NULL DEFAULT 0,
  context     TEXT NOT NULL DEFAULT '',
  encoding    TEXT NOT NULL DEFAULT '',
  author      TEXT NOT NULL DEFAULT '',
  email       TEXT NOT NULL DEFAULT '',
  date        TEXT NOT NULL DEFAULT '',
  message     TEXT NOT NULL DEFAULT '',
  first_seen  TEXT NOT NULL DEFAULT '',
  deleted     TEXT NOT NULL DEFAULT '',   -- images: the layer that deletes the file
  PRIMARY KEY (fingerprint, repo, commit_id, path, line, col)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS locations_repo ON locations(repo);
CREATE TABLE IF NOT EXISTS scanned_layers (
  scan_key TEXT NOT NULL,
  diff_id  TEXT NOT NULL,
  result   TEXT NOT NULL,
  PRIMARY KEY (scan_key, diff_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verifications (
  fingerprint TEXT PRIMARY KEY,
  status      TEXT NOT NULL,
  http_status INTEGER NOT NULL DEFAULT 0,
  checked_at  TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '',
  access      TEXT NOT NULL DEFAULT ''      -- finding.Access as JSON; '' when none
);
CREATE TABLE IF NOT EXISTS triage (         -- a log: the latest entry is the state
  fingerprint TEXT NOT NULL,
  at          TEXT NOT NULL,
  status      TEXT NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  actor       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (fingerprint, at, status, note, actor)
) WITHOUT ROWID;
` + forgeItemsTable

// Repository statuses.
const (
	StatusOK         = "ok"         // scanned completely
	StatusIncomplete = "incomplete" // scanned, but some objects could not be read
	StatusError      = "error"      // could not be fetched or opened
)

// Triage statuses.
const (
	TriageOpen          = "open"
	TriageFalsePositive = "false-positive"
	TriageAcceptedRisk  = "accepted-risk"
	TriageRevoked       = "revoked"
)

// TriageStatuses lists the valid triage statuses.
func TriageStatuses() []string {
	return []string{TriageOpen, TriageFalsePositive, TriageAcceptedRisk, TriageRevoked}
}

// Store is an open datastore. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the store at path.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("creating database %s: %w", path, err)
		}
		// Created private: the store holds secrets.
		f, err := os.OpenFile(abs, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating database %s: %w", path, err)
		}
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: abs}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w (is it a tokenward store?)", path, err)
	}
	return s, nil
}

// init creates the schema, or migrates an older one, in one transaction.
func (s *Store) init() error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch {
	case v == SchemaVersion:
		return nil
	case v > SchemaVersion:
		return fmt.Errorf("schema version %d is newer than this tokenward supports (%d); upgrade tokenward", v, SchemaVersion)
	case v == 0:
		if _, err := tx.Exec(schema + objectsSchema); err != nil {
			return err
		}
	default:
		for ; v < SchemaVersion; v++ {
			if _, err := tx.Exec(migrations[v-1]); err != nil {
				return fmt.Errorf("migrating the schema from version %d: %w", v, err)
			}
		}
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the store (checkpointing the WAL).
func (s *Store) Close() error { return s.db.Close() }

// Repo is a repository's row.
type Repo struct {
	URL, Name, Source   string
	RefsDigest, ScanKey string
	Status, Detail      string
	Refs, Commits       int
	Blobs, BlobsScanned int
	BlobsCached         int
	BytesScanned        int64
	Findings            int
	ScannedAt           string
	CheckedAt           string
	RemoteStamp         string // see sweep.Target.Stamp
	FetchedAt           string
}

const repoCols = `url, name, source, refs_digest, scan_key, status, detail, refs, commits, blobs, blobs_scanned, blobs_cached, bytes_scanned, findings, scanned_at, checked_at, remote_stamp, fetched_at`

func scanRepo(sc interface{ Scan(...any) error }) (Repo, error) {
	var r Repo
	err := sc.Scan(&r.URL, &r.Name, &r.Source, &r.RefsDigest, &r.ScanKey, &r.Status, &r.Detail, &r.Refs, &r.Commits,
		&r.Blobs, &r.BlobsScanned, &r.BlobsCached, &r.BytesScanned, &r.Findings, &r.ScannedAt, &r.CheckedAt, &r.RemoteStamp, &r.FetchedAt)
	return r, err
}

// Repo returns the row of the repository at url.
func (s *Store) Repo(url string) (Repo, bool, error) {
	r, err := scanRepo(s.db.QueryRow(`SELECT `+repoCols+` FROM repositories WHERE url = ?`, url))
	if errors.Is(err, sql.ErrNoRows) {
		return Repo{}, false, nil
	}
	return r, err == nil, err
}

// Repos lists every repository, by URL.
func (s *Store) Repos() ([]Repo, error) {
	rows, err := s.db.Query(`SELECT ` + repoCols + ` FROM repositories ORDER BY url`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Repo
	for rows.Next() {
		r, err := scanRepo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func upsertRepo(ctx context.Context, tx *sql.Tx, r Repo) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO repositories (`+repoCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(url) DO UPDATE SET name=excluded.name, source=excluded.source, refs_digest=excluded.refs_digest,
  scan_key=excluded.scan_key, status=excluded.status, detail=excluded.detail, refs=excluded.refs,
  commits=excluded.commits, blobs=excluded.blobs, blobs_scanned=excluded.blobs_scanned,
  blobs_cached=excluded.blobs_cached, bytes_scanned=excluded.bytes_scanned, findings=excluded.findings,
  scanned_at=excluded.scanned_at, checked_at=excluded.checked_at, remote_stamp=excluded.remote_stamp,
  fetched_at=excluded.fetched_at`,
		r.URL, r.Name, r.Source, r.RefsDigest, r.ScanKey, r.Status, r.Detail, r.Refs, r.Commits, r.Blobs,
		r.BlobsScanned, r.BlobsCached, r.BytesScanned, r.Findings, r.ScannedAt, r.CheckedAt, r.RemoteStamp, r.FetchedAt)
	return err
}

// Touch is a sweep finding a repository unchanged. Fetched says its mirror was
// checked against the remote (then Stamp, the listing's stamp, is recorded).
type Touch struct {
	URL, Name, Source string
	At                string
	Fetched           bool
	Stamp             string
}

// TouchAll records unchanged repositories (their checked_at, name and source)
// in one transaction.
func (s *Store) TouchAll(ctx context.Context, ts []Touch) error {
	if len(ts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range ts {
		q := `UPDATE repositories SET checked_at = ?, name = ?, source = ? WHERE url = ?`
		args := []any{t.At, t.Name, t.Source, t.URL}
		if t.Fetched {
			q = `UPDATE repositories SET checked_at = ?, name = ?, source = ?, fetched_at = ?, remote_stamp = ? WHERE url = ?`
			args = []any{t.At, t.Name, t.Source, t.At, t.Stamp, t.URL}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RecordError records a repository that could not be fetched or opened. Its
// findings stay; its next sweep scans it again.
func (s *Store) RecordError(ctx context.Context, r Repo) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO repositories (url, name, source, status, detail, checked_at) VALUES (?,?,?,?,?,?)
ON CONFLICT(url) DO UPDATE SET name=excluded.name, source=excluded.source, refs_digest='', remote_stamp='', status=excluded.status,
  detail=excluded.detail, checked_at=excluded.checked_at`,
		r.URL, r.Name, r.Source, StatusError, r.Detail, r.CheckedAt)
	return err
}

// storedFinding is a blob-level finding as kept in scanned_blobs, with the
// named groups that verification templates need.
type storedFinding struct {
	finding.Finding
	Groups map[string]string `json:"groups,omitempty"`
}

// BlobCache is the git source's ResultCache for one repository scan: Get reads
// results committed by earlier scans under the same scan key; Put keeps new
// results until Commit writes them with the repository.
type BlobCache struct {
	firstErr // the first database error met by Get (a failed Get is a cache miss)
	s        *Store
	key      string
	mu       sync.Mutex
	pending  map[string]blobResult
}

type blobResult struct {
	blob, class []byte
	fs          []finding.Finding
}

// NewBlobCache returns a cache of blob results under scanKey (a digest of the
// rules and engine options).
func (s *Store) NewBlobCache(scanKey string) *BlobCache {
	return &BlobCache{s: s, key: scanKey, pending: map[string]blobResult{}}
}

// Get implements git.ResultCache.
func (c *BlobCache) Get(blob, class string) ([]finding.Finding, bool) {
	id, err := hex.DecodeString(blob)
	if err != nil {
		return nil, false
	}
	var data sql.NullString
	err = c.s.db.QueryRow(`SELECT findings FROM scanned_blobs WHERE scan_key = ? AND blob = ? AND class = ?`, c.key, id, []byte(class)).Scan(&data)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			c.fail(err)
		}
		return nil, false
	}
	if !data.Valid {
		return nil, true
	}
	fs, err := decodeFindings(data.String)
	if err != nil {
		c.fail(fmt.Errorf("scanned blob %s: %w", blob, err))
		return nil, false
	}
	return fs, true
}

// Put implements git.ResultCache.
func (c *BlobCache) Put(blob, class string, fs []finding.Finding) {
	id, err := hex.DecodeString(blob)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.pending[blob+"\x00"+class] = blobResult{blob: id, class: []byte(class), fs: fs}
	c.mu.Unlock()
}

// Pending is how many results Put has collected.
func (c *BlobCache) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

func encodeFindings(fs []finding.Finding) (any, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	sf := make([]storedFinding, len(fs))
	for i, f := range fs {
		sf[i] = storedFinding{Finding: f, Groups: f.Groups}
	}
	b, err := json.Marshal(sf)
	return string(b), err
}

func decodeFindings(s string) ([]finding.Finding, error) {
	var sf []storedFinding
	if err := json.Unmarshal([]byte(s), &sf); err != nil {
		return nil, err
	}
	fs := make([]finding.Finding, len(sf))
	for i, f := range sf {
		fs[i] = f.Finding
		fs[i].Groups = f.Groups
	}
	return fs, nil
}

// LayerCache is the image source's cache of layer results under one scan key
// (image.LayerCache). Unlike blob results, a layer's result is written as soon
// as it is complete: it is keyed by content, so it is valid whatever becomes
// of the image's sweep, and a killed sweep does not read the layer again.
type LayerCache struct {
	firstErr // the first database error met (a failed Get is a cache miss, a failed Put a result not kept)
	s        *Store
	key      string
}

// NewLayerCache returns the layer cache under scanKey.
func (s *Store) NewLayerCache(scanKey string) *LayerCache { return &LayerCache{s: s, key: scanKey} }

// Get returns the stored result of the layer with this diff ID.
func (c *LayerCache) Get(diffID string) ([]byte, bool) {
	var data string
	err := c.s.db.QueryRow(`SELECT result FROM scanned_layers WHERE scan_key = ? AND diff_id = ?`, c.key, diffID).Scan(&data)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			c.fail(err)
		}
		return nil, false
	}
	return []byte(data), true
}

// Put stores a layer's complete result.
func (c *LayerCache) Put(diffID string, result []byte) {
	if _, err := c.s.db.Exec(`INSERT OR IGNORE INTO scanned_layers (scan_key, diff_id, result) VALUES (?,?,?)`, c.key, diffID, string(result)); err != nil {
		c.fail(fmt.Errorf("storing layer %s: %w", diffID, err))
	}
}

// firstErr keeps the first error reported to it. It is safe for concurrent use.
type firstErr struct {
	mu  sync.Mutex
	err error
}

// Err is the first error met, or nil.
func (e *firstErr) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *firstErr) fail(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// Result is everything one repository's sweep writes.
type Result struct {
	Repo     Repo
	Findings []finding.Finding // with provenance; Verification kept when set
	Blobs    *BlobCache        // new blob results (may be nil)
	Now      string            // first_seen of new findings and locations
	// Items are the forge items scanned completely, for a collection (Repo.URL
	// is its key): their stamps replace those stored.
	Items []ItemStamp
}

// ItemStamp is what a forge item was when it was scanned.
type ItemStamp struct{ Item, Stamp string }

// ItemStamps returns the stamps of a collection's items, by item.
func (s *Store) ItemStamps(collection string) (map[string]string, error) {
	rows, err := s.db.Query(`SELECT item, stamp FROM forge_items WHERE collection = ?`, collection)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var it, st string
		if err := rows.Scan(&it, &st); err != nil {
			return nil, err
		}
		out[it] = st
	}
	return out, rows.Err()
}

// Commit writes one repository's result in a single transaction: its row, the
// blobs it scanned, its findings and their locations, and verification results.
func (s *Store) Commit(ctx context.Context, r Result) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := upsertRepo(ctx, tx, r.Repo); err != nil {
		return fmt.Errorf("repository %s: %w", r.Repo.URL, err)
	}
	if r.Blobs != nil {
		r.Blobs.mu.Lock()
		pending := make([]blobResult, 0, len(r.Blobs.pending))
		for _, b := range r.Blobs.pending {
			pending = append(pending, b)
		}
		r.Blobs.mu.Unlock()
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO scanned_blobs (scan_key, blob, class, findings) VALUES (?,?,?,?)`)
		if err != nil {
			return err
		}
		for _, b := range pending {
			data, err := encodeFindings(b.fs)
			if err != nil {
				st.Close()
				return err
			}
			if _, err := st.ExecContext(ctx, r.Blobs.key, b.blob, b.class, data); err != nil {
				st.Close()
				return err
			}
		}
		st.Close()
	}
	if err := insertFindings(ctx, tx, r.Repo.URL, r.Findings, r.Now); err != nil {
		return err
	}
	for _, it := range r.Items {
		if _, err := tx.ExecContext(ctx, `INSERT INTO forge_items (collection, item, stamp) VALUES (?,?,?)
ON CONFLICT(collection, item) DO UPDATE SET stamp=excluded.stamp`, r.Repo.URL, it.Item, it.Stamp); err != nil {
			return fmt.Errorf("item %s: %w", it.Item, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if r.Blobs != nil {
		r.Blobs.mu.Lock()
		clear(r.Blobs.pending)
		r.Blobs.mu.Unlock()
	}
	return nil
}

func insertFindings(ctx context.Context, tx *sql.Tx, repo string, fs []finding.Finding, now string) error {
	if len(fs) == 0 {
		return nil
	}
	fst, err := tx.PrepareContext(ctx, `INSERT INTO findings (fingerprint, rule_id, description, severity, kind, secret, redacted, entropy, tags, first_seen)
VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(fingerprint) DO NOTHING`)
	if err != nil {
		return err
	}
	defer fst.Close()
	lst, err := tx.PrepareContext(ctx, `INSERT INTO locations (fingerprint, repo, commit_id, path, line, col, end_line, end_col, context, encoding, author, email, date, message, first_seen, deleted)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer lst.Close()
	vst, err := tx.PrepareContext(ctx, `INSERT INTO verifications (fingerprint, status, http_status, checked_at, detail, access) VALUES (?,?,?,?,?,?)
ON CONFLICT(fingerprint) DO UPDATE SET status=excluded.status, http_status=excluded.http_status, checked_at=excluded.checked_at, detail=excluded.detail, access=excluded.access
WHERE excluded.checked_at >= verifications.checked_at`)
	if err != nil {
		return err
	}
	defer vst.Close()
	for _, f := range fs {
		if f.Fingerprint == "" {
			f.Fingerprint = finding.Fingerprint(f.RuleID, f.Secret)
		}
		tags, _ := json.Marshal(nonNil(f.Tags))
		if _, err := fst.ExecContext(ctx, f.Fingerprint, f.RuleID, f.Description, f.Severity, f.Kind, f.Secret, f.Redacted, f.Entropy, string(tags), now); err != nil {
			return fmt.Errorf("finding %s: %w", f.Fingerprint, err)
		}
		if _, err := lst.ExecContext(ctx, f.Fingerprint, repo, f.Commit, f.File, f.Line, f.Column, f.EndLine, f.EndColumn,
			f.Context, f.Encoding, f.Author, f.Email, f.Date, f.Message, now, f.Deleted); err != nil {
			return fmt.Errorf("location of %s: %w", f.Fingerprint, err)
		}
		if v := f.Verification; v != nil && v.Status != "" && v.Status != finding.StatusNotChecked {
			if _, err := vst.ExecContext(ctx, f.Fingerprint, v.Status, v.HTTPStatus, v.CheckedAt, v.Detail, accessJSON(v.Access)); err != nil {
				return fmt.Errorf("verification of %s: %w", f.Fingerprint, err)
			}
		}
	}
	return nil
}

// accessJSON is how an access map is stored: JSON, or "" for none.
func accessJSON(a *finding.Access) string {
	if a.Empty() {
		return ""
	}
	b, err := json.Marshal(a)
	if err != nil {
		return ""
	}
	return string(b)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Verification returns the stored verification of fingerprints (those without
// one are absent from the map).
func (s *Store) Verification(fps []string) (map[string]finding.Verification, error) {
	out := map[string]finding.Verification{}
	st, err := s.db.Prepare(`SELECT status, http_status, checked_at, detail, access FROM verifications WHERE fingerprint = ?`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, fp := range fps {
		var v finding.Verification
		var access string
		err := st.QueryRow(fp).Scan(&v.Status, &v.HTTPStatus, &v.CheckedAt, &v.Detail, &access)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if access != "" {
			var a finding.Access
			if json.Unmarshal([]byte(access), &a) == nil && !a.Empty() {
				v.Access = &a
			}
		}
		out[fp] = v
	}
	return out, nil
}

// SetVerification stores verification results (from `tokenward report --verify`).
func (s *Store) SetVerification(ctx context.Context, fs []finding.Finding) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, f := range fs {
		v := f.Verification
		if v == nil || v.Status == "" || v.Status == finding.StatusNotChecked {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO verifications (fingerprint, status, http_status, checked_at, detail, access) VALUES (?,?,?,?,?,?)
ON CONFLICT(fingerprint) DO UPDATE SET status=excluded.status, http_status=excluded.http_status, checked_at=excluded.checked_at, detail=excluded.detail, access=excluded.access
WHERE excluded.checked_at >= verifications.checked_at`, f.Fingerprint, v.Status, v.HTTPStatus, v.CheckedAt, v.Detail, accessJSON(v.Access)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// TriageEntry is one triage decision.
type TriageEntry struct {
	Fingerprint string `json:"fingerprint"`
	At          string `json:"at"`
	Status      string `json:"status"`
	Note        string `json:"note,omitempty"`
	Actor       string `json:"actor,omitempty"`
}

// ResolveFingerprint expands a fingerprint or a unique prefix of one (with or
// without "tw1:"; legacy "sha256:" ones are stored by older versions) to a
// stored fingerprint.
func (s *Store) ResolveFingerprint(prefix string) (string, error) {
	p := strings.TrimSpace(prefix)
	if !finding.HasFingerprintPrefix(p) {
		p = finding.FingerprintPrefix + p
	}
	if len(p) < strings.Index(p, ":")+1+8 {
		return "", fmt.Errorf("fingerprint %q: give at least 8 hex digits", prefix)
	}
	rows, err := s.db.Query(`SELECT fingerprint FROM findings WHERE fingerprint >= ? AND fingerprint < ? ORDER BY fingerprint LIMIT 2`, p, p+"\xff")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			return "", err
		}
		found = append(found, fp)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("fingerprint %q is not in %s (list them with tokenward report --db %s --format jsonl)", prefix, s.path, s.path)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("fingerprint %q is ambiguous (%s, %s, ...): give more digits", prefix, found[0], found[1])
	}
}

// Triage records a decision about a fingerprint (which must be in the store).
func (s *Store) Triage(ctx context.Context, e TriageEntry) error {
	valid := false
	for _, st := range TriageStatuses() {
		valid = valid || e.Status == st
	}
	if !valid {
		return fmt.Errorf("triage status %q: want one of %s", e.Status, strings.Join(TriageStatuses(), ", "))
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO triage (fingerprint, at, status, note, actor) VALUES (?,?,?,?,?)`,
		e.Fingerprint, e.At, e.Status, e.Note, e.Actor)
	return err
}

// TriageHistory lists a fingerprint's triage decisions, oldest first.
func (s *Store) TriageHistory(fp string) ([]TriageEntry, error) {
	rows, err := s.db.Query(`SELECT fingerprint, at, status, note, actor FROM triage WHERE fingerprint = ? ORDER BY at, status, note, actor`, fp)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TriageEntry
	for rows.Next() {
		var e TriageEntry
		if err := rows.Scan(&e.Fingerprint, &e.At, &e.Status, &e.Note, &e.Actor); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// currentTriage is the latest decision per fingerprint; ties (same instant) go
// to the greatest (status, note, actor), so the state is the same whatever
// order stores were merged in.
const currentTriage = `SELECT t.fingerprint, t.status, t.note FROM triage t WHERE NOT EXISTS (
  SELECT 1 FROM triage u WHERE u.fingerprint = t.fingerprint AND (u.at, u.status, u.note, u.actor) > (t.at, t.status, t.note, t.actor))`

// Located is a finding at one location, with its repository and triage state.
type Located struct {
	finding.Finding
	RepoURL, RepoName string
	Triage, Note      string
}

// Query selects findings for reports.
type Query struct {
	Triage   []string // triage statuses to include (empty: all)
	Repos    []string // repository URLs or names (empty: all)
	OnlyLive bool
}

// Findings returns every location of every finding matching q, in a stable order.
func (s *Store) Findings(q Query) ([]Located, error) {
	rows, err := s.db.Query(`SELECT f.fingerprint, f.rule_id, f.description, f.severity, f.kind, f.secret, f.redacted, f.entropy, f.tags,
  l.repo, COALESCE(r.name, l.repo), l.commit_id, l.path, l.line, l.col, l.end_line, l.end_col, l.context, l.encoding,
  l.author, l.email, l.date, l.message, l.deleted,
  COALESCE(v.status, ''), COALESCE(v.http_status, 0), COALESCE(v.checked_at, ''), COALESCE(v.detail, ''),
  COALESCE(t.status, 'open'), COALESCE(t.note, '')
FROM locations l JOIN findings f ON f.fingerprint = l.fingerprint
LEFT JOIN repositories r ON r.url = l.repo
LEFT JOIN verifications v ON v.fingerprint = l.fingerprint
LEFT JOIN (` + currentTriage + `) t ON t.fingerprint = l.fingerprint
ORDER BY l.repo, l.path, l.line, l.col, l.commit_id, l.fingerprint`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := func(list []string) map[string]bool {
		if len(list) == 0 {
			return nil
		}
		m := map[string]bool{}
		for _, x := range list {
			m[x] = true
		}
		return m
	}
	triage, repos := set(q.Triage), set(q.Repos)
	want := func(m map[string]bool, vals ...string) bool {
		if m == nil {
			return true
		}
		for _, v := range vals {
			if m[v] {
				return true
			}
		}
		return false
	}
	var out []Located
	for rows.Next() {
		var l Located
		var tags string
		var v finding.Verification
		f := &l.Finding
		if err := rows.Scan(&f.Fingerprint, &f.RuleID, &f.Description, &f.Severity, &f.Kind, &f.Secret, &f.Redacted, &f.Entropy, &tags,
			&l.RepoURL, &l.RepoName, &f.Commit, &f.File, &f.Line, &f.Column, &f.EndLine, &f.EndColumn, &f.Context, &f.Encoding,
			&f.Author, &f.Email, &f.Date, &f.Message, &f.Deleted,
			&v.Status, &v.HTTPStatus, &v.CheckedAt, &v.Detail, &l.Triage, &l.Note); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(tags), &f.Tags); err != nil {
			return nil, fmt.Errorf("finding %s: tags: %w", f.Fingerprint, err)
		}
		if len(f.Tags) == 0 {
			f.Tags = nil
		}
		if v.Status != "" {
			f.Verification = &v
		}
		if !want(triage, l.Triage) || !want(repos, l.RepoURL, l.RepoName) {
			continue
		}
		if q.OnlyLive && (f.Verification == nil || f.Verification.Status != finding.StatusLive) {
			continue
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Counts summarises the store.
type Counts struct {
	Repos, ReposFailed  int
	Fingerprints        int
	Locations           int
	ScannedBlobs        int
	Open, Triaged, Live int
}

// Counts returns the store's totals.
func (s *Store) Counts() (Counts, error) {
	var c Counts
	err := s.db.QueryRow(`SELECT
  (SELECT COUNT(*) FROM repositories),
  (SELECT COUNT(*) FROM repositories WHERE status <> 'ok'),
  (SELECT COUNT(*) FROM findings),
  (SELECT COUNT(*) FROM locations),
  (SELECT COUNT(*) FROM scanned_blobs) + (SELECT COUNT(*) FROM scanned_layers),
  (SELECT COUNT(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM (`+currentTriage+`) t WHERE t.fingerprint = f.fingerprint AND t.status <> 'open')),
  (SELECT COUNT(DISTINCT fingerprint) FROM triage),
  (SELECT COUNT(*) FROM verifications WHERE status = 'live')`).Scan(
		&c.Repos, &c.ReposFailed, &c.Fingerprints, &c.Locations, &c.ScannedBlobs, &c.Open, &c.Triaged, &c.Live)
	return c, err
}

// Canonical renders the store's content in a canonical text form: every row of
// every table, sorted, leaving out what differs between equivalent sweeps (times
// and per-run work counters). Two stores with equal Canonical forms hold the same
// repositories, scanned blobs, findings, locations, verifications and triage.
func (s *Store) Canonical() (string, error) {
	queries := []struct{ name, q string }{
		{"repositories", `SELECT url, name, source, refs_digest, scan_key, status, detail FROM repositories`},
		{"scanned_blobs", `SELECT scan_key, hex(blob), hex(class), COALESCE(findings, '') FROM scanned_blobs`},
		{"scanned_objects", `SELECT origin, bucket, object_key, etag, scan_key, size, COALESCE(findings, '') FROM scanned_objects`},
		{"findings", `SELECT fingerprint, rule_id, description, severity, kind, secret, redacted, entropy, tags FROM findings`},
		{"scanned_layers", `SELECT scan_key, diff_id, result FROM scanned_layers`},
		{"locations", `SELECT fingerprint, repo, commit_id, path, line, col, end_line, end_col, context, encoding, author, email, date, message, deleted FROM locations`},
		{"verifications", `SELECT fingerprint, status, http_status, detail FROM verifications`},
		{"triage", `SELECT fingerprint, at, status, note, actor FROM triage`},
		{"forge_items", `SELECT collection, item, stamp FROM forge_items`},
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := s.db.Query(q.q)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				parts[i] = fmt.Sprintf("%q", fmt.Sprint(v))
			}
			lines = append(lines, strings.Join(parts, " "))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return "", err
		}
		sort.Strings(lines)
		fmt.Fprintf(&b, "# %s (%d)\n", q.name, len(lines))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

// Now formats t as stored (RFC 3339 with nanoseconds, UTC, so that the text
// order is the time order).
func Now(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
