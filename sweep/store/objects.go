package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tokenward/tokenward/finding"
)

// Objects of object stores (tokenward s3): the complete result of each object
// by entity tag, so that a re-run reads only objects that changed. One row per
// object: a new ETag or scan key replaces it.
//
// objectsSchema is its own migration step (see migrations), so that it can be
// renumbered against other steps.
const objectsSchema = `
CREATE TABLE IF NOT EXISTS scanned_objects (
  origin     TEXT NOT NULL,                 -- the endpoint ('' for AWS S3)
  bucket     TEXT NOT NULL,
  object_key TEXT NOT NULL,
  etag       TEXT NOT NULL,                 -- as the store gave it, quotes included
  scan_key   TEXT NOT NULL,                 -- rules and options of the scan
  size       INTEGER NOT NULL DEFAULT 0,
  findings   TEXT,                          -- JSON array positioned in the object, NULL if none
  scanned_at TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (origin, bucket, object_key)
) WITHOUT ROWID;
`

// mergeObjects merges scanned_objects: of two rows for one object, the latest
// scan (the greatest row, scanned_at first) wins.
const mergeObjects = `INSERT INTO main.scanned_objects (origin, bucket, object_key, etag, scan_key, size, findings, scanned_at)
SELECT origin, bucket, object_key, etag, scan_key, size, findings, scanned_at FROM src.scanned_objects WHERE true
ON CONFLICT(origin, bucket, object_key) DO UPDATE SET etag=excluded.etag, scan_key=excluded.scan_key, size=excluded.size,
  findings=excluded.findings, scanned_at=excluded.scanned_at
WHERE (excluded.scanned_at, excluded.etag, excluded.scan_key, excluded.size, COALESCE(excluded.findings, ''))
    > (scanned_objects.scanned_at, scanned_objects.etag, scanned_objects.scan_key, scanned_objects.size, COALESCE(scanned_objects.findings, ''))`

// ObjectCache is the object source's cache for one store endpoint: Get reads
// results committed by earlier runs under the same scan key and ETag; Put keeps
// new results until CommitObjects writes them.
type ObjectCache struct {
	s       *Store
	key     string
	origin  string
	mu      sync.Mutex
	pending map[[2]string]objectResult
	err     error
}

type objectResult struct {
	etag string
	size int64
	fs   []finding.Finding
}

// NewObjectCache returns a cache of object results under scanKey for the
// objects of origin (the endpoint URL, "" for AWS S3).
func (s *Store) NewObjectCache(scanKey, origin string) *ObjectCache {
	return &ObjectCache{s: s, key: scanKey, origin: origin, pending: map[[2]string]objectResult{}}
}

// Get returns the stored result of an object, if it was scanned with this
// cache's scan key at this ETag.
func (c *ObjectCache) Get(bucket, key, etag string) ([]finding.Finding, bool) {
	var data sql.NullString
	err := c.s.db.QueryRow(`SELECT findings FROM scanned_objects WHERE origin = ? AND bucket = ? AND object_key = ? AND etag = ? AND scan_key = ?`,
		c.origin, bucket, key, etag, c.key).Scan(&data)
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
		c.fail(fmt.Errorf("scanned object s3://%s/%s: %w", bucket, key, err))
		return nil, false
	}
	return fs, true
}

// Put keeps an object's complete result for CommitObjects.
func (c *ObjectCache) Put(bucket, key, etag string, size int64, fs []finding.Finding) {
	c.mu.Lock()
	c.pending[[2]string{bucket, key}] = objectResult{etag: etag, size: size, fs: fs}
	c.mu.Unlock()
}

// Pending lists the keys of bucket that Put holds (objects read this run), sorted.
func (c *ObjectCache) Pending(bucket string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for k := range c.pending {
		if k[0] == bucket {
			keys = append(keys, k[1])
		}
	}
	sort.Strings(keys)
	return keys
}

// Err is the first database error met by Get (a failed Get is a cache miss).
func (c *ObjectCache) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *ObjectCache) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// ObjectsResult is what one run over a bucket writes.
type ObjectsResult struct {
	Repo  Repo         // the bucket's row: URL unique per endpoint and bucket, Name as reports show it (s3://bucket)
	Cache *ObjectCache // new object results (may be nil)
	// Replaced are the paths (as in Findings' File) of objects read again:
	// their earlier locations are dropped before Findings are written, so a
	// secret removed from an object is no longer reported at it.
	Replaced []string
	Findings []finding.Finding // File relative to the bucket (key and member chain)
	Now      string
}

// CommitObjects writes a bucket's result in one transaction: its row, the
// objects' results, and the findings with their locations and verifications.
func (s *Store) CommitObjects(ctx context.Context, r ObjectsResult) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := upsertRepo(ctx, tx, r.Repo); err != nil {
		return fmt.Errorf("bucket %s: %w", r.Repo.URL, err)
	}
	if c := r.Cache; c != nil {
		c.mu.Lock()
		type row struct {
			bucket, key string
			objectResult
		}
		var rows []row
		for k, v := range c.pending {
			rows = append(rows, row{k[0], k[1], v})
		}
		c.mu.Unlock()
		st, err := tx.PrepareContext(ctx, `INSERT INTO scanned_objects (origin, bucket, object_key, etag, scan_key, size, findings, scanned_at) VALUES (?,?,?,?,?,?,?,?)
ON CONFLICT(origin, bucket, object_key) DO UPDATE SET etag=excluded.etag, scan_key=excluded.scan_key, size=excluded.size,
  findings=excluded.findings, scanned_at=excluded.scanned_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, o := range rows {
			data, err := encodeFindings(o.fs)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, c.origin, o.bucket, o.key, o.etag, c.key, o.size, data, r.Now); err != nil {
				return fmt.Errorf("object %s: %w", o.key, err)
			}
		}
	}
	if len(r.Replaced) > 0 {
		st, err := tx.PrepareContext(ctx, `DELETE FROM locations WHERE repo = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '!')`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, p := range r.Replaced {
			if _, err := st.ExecContext(ctx, r.Repo.URL, p); err != nil {
				return fmt.Errorf("locations of %s: %w", p, err)
			}
		}
	}
	if err := insertFindings(ctx, tx, r.Repo.URL, r.Findings, r.Now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if c := r.Cache; c != nil {
		c.mu.Lock()
		clear(c.pending)
		c.mu.Unlock()
	}
	return nil
}

// TriageStates returns the current triage status of those fingerprints that
// have one.
func (s *Store) TriageStates(fps []string) (map[string]string, error) {
	out := map[string]string{}
	st, err := s.db.Prepare(`SELECT status FROM (` + currentTriage + `) WHERE fingerprint = ?`)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, fp := range fps {
		var status string
		err := st.QueryRow(fp).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[fp] = status
	}
	return out, nil
}
