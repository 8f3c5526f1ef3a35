package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Merging. Every table merges by a rule that is commutative, associative and
// idempotent, so merging any stores in any order, any number of times, gives the
// same result:
//
//   - repositories: the row that is greatest as a whole, times first (the latest scan)
//   - scanned_blobs, scanned_layers: union (a blob's or layer's result under one
//     scan key does not vary)
//   - scanned_objects: the latest scan of each object
//   - findings, locations: union; of two rows for one key, the least as a whole,
//     first_seen first (the earliest sighting)
//   - verifications: the greatest row, checked_at first (the latest check)
//   - triage: union of the decision logs (the latest decision is the state)
//   - forge_items: union; of two stamps for one item, the greatest (the latest)
var mergeStatements = []string{
	`INSERT INTO main.repositories (` + repoCols + `) SELECT ` + repoCols + ` FROM src.repositories WHERE true
ON CONFLICT(url) DO UPDATE SET name=excluded.name, source=excluded.source, refs_digest=excluded.refs_digest,
  scan_key=excluded.scan_key, status=excluded.status, detail=excluded.detail, refs=excluded.refs,
  commits=excluded.commits, blobs=excluded.blobs, blobs_scanned=excluded.blobs_scanned,
  blobs_cached=excluded.blobs_cached, bytes_scanned=excluded.bytes_scanned, findings=excluded.findings,
  scanned_at=excluded.scanned_at, checked_at=excluded.checked_at, remote_stamp=excluded.remote_stamp, fetched_at=excluded.fetched_at
WHERE (excluded.scanned_at, excluded.checked_at, excluded.fetched_at, excluded.status, excluded.refs_digest, excluded.scan_key, excluded.detail,
       excluded.name, excluded.source, excluded.refs, excluded.commits, excluded.blobs, excluded.blobs_scanned,
       excluded.blobs_cached, excluded.bytes_scanned, excluded.findings, excluded.remote_stamp)
    > (repositories.scanned_at, repositories.checked_at, repositories.fetched_at, repositories.status, repositories.refs_digest, repositories.scan_key,
       repositories.detail, repositories.name, repositories.source, repositories.refs, repositories.commits, repositories.blobs,
       repositories.blobs_scanned, repositories.blobs_cached, repositories.bytes_scanned, repositories.findings, repositories.remote_stamp)`,

	`INSERT INTO main.scanned_blobs (scan_key, blob, class, findings) SELECT scan_key, blob, class, findings FROM src.scanned_blobs WHERE true
ON CONFLICT(scan_key, blob, class) DO UPDATE SET findings=excluded.findings
WHERE COALESCE(excluded.findings, '') > COALESCE(scanned_blobs.findings, '')`,

	`INSERT INTO main.scanned_layers (scan_key, diff_id, result) SELECT scan_key, diff_id, result FROM src.scanned_layers WHERE true
ON CONFLICT(scan_key, diff_id) DO UPDATE SET result=excluded.result WHERE excluded.result > scanned_layers.result`,

	mergeObjects,

	`INSERT INTO main.findings (fingerprint, rule_id, description, severity, kind, secret, redacted, entropy, tags, first_seen)
SELECT fingerprint, rule_id, description, severity, kind, secret, redacted, entropy, tags, first_seen FROM src.findings WHERE true
ON CONFLICT(fingerprint) DO UPDATE SET rule_id=excluded.rule_id, description=excluded.description, severity=excluded.severity,
  kind=excluded.kind, secret=excluded.secret, redacted=excluded.redacted, entropy=excluded.entropy, tags=excluded.tags,
  first_seen=excluded.first_seen
WHERE (excluded.first_seen, excluded.rule_id, excluded.description, excluded.severity, excluded.kind, excluded.secret,
       excluded.redacted, excluded.entropy, excluded.tags)
    < (findings.first_seen, findings.rule_id, findings.description, findings.severity, findings.kind, findings.secret,
       findings.redacted, findings.entropy, findings.tags)`,

	`INSERT INTO main.locations (fingerprint, repo, commit_id, path, line, col, end_line, end_col, context, encoding, author, email, date, message, first_seen, deleted)
SELECT fingerprint, repo, commit_id, path, line, col, end_line, end_col, context, encoding, author, email, date, message, first_seen, deleted FROM src.locations WHERE true
ON CONFLICT(fingerprint, repo, commit_id, path, line, col) DO UPDATE SET end_line=excluded.end_line, end_col=excluded.end_col,
  context=excluded.context, encoding=excluded.encoding, author=excluded.author, email=excluded.email, date=excluded.date,
  message=excluded.message, first_seen=excluded.first_seen, deleted=excluded.deleted
WHERE (excluded.first_seen, excluded.end_line, excluded.end_col, excluded.context, excluded.encoding, excluded.author,
       excluded.email, excluded.date, excluded.message, excluded.deleted)
    < (locations.first_seen, locations.end_line, locations.end_col, locations.context, locations.encoding, locations.author,
       locations.email, locations.date, locations.message, locations.deleted)`,

	`INSERT INTO main.verifications (fingerprint, status, http_status, checked_at, detail)
SELECT fingerprint, status, http_status, checked_at, detail FROM src.verifications WHERE true
ON CONFLICT(fingerprint) DO UPDATE SET status=excluded.status, http_status=excluded.http_status, checked_at=excluded.checked_at, detail=excluded.detail
WHERE (excluded.checked_at, excluded.status, excluded.http_status, excluded.detail)
    > (verifications.checked_at, verifications.status, verifications.http_status, verifications.detail)`,

	`INSERT OR IGNORE INTO main.triage (fingerprint, at, status, note, actor) SELECT fingerprint, at, status, note, actor FROM src.triage`,

	`INSERT INTO main.forge_items (collection, item, stamp) SELECT collection, item, stamp FROM src.forge_items WHERE true
ON CONFLICT(collection, item) DO UPDATE SET stamp=excluded.stamp WHERE excluded.stamp > forge_items.stamp`,
}

// Merge adds the content of the store at path src to s, in one transaction.
func (s *Store) Merge(ctx context.Context, src string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if abs == s.path {
		return nil // merging a store into itself changes nothing
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	// Open it as a store first: this checks it is one, of a version we read,
	// and checkpoints its write-ahead log.
	other, err := Open(abs)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if err := other.Close(); err != nil {
		return fmt.Errorf("merge: %s: %w", src, err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, abs); err != nil {
		return fmt.Errorf("merge: attaching %s: %w", src, err)
	}
	defer conn.ExecContext(context.Background(), `DETACH DATABASE src`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range mergeStatements {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tx.Rollback()
			return fmt.Errorf("merge %s: %w", src, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return errors.Join(fmt.Errorf("merge %s", src), err)
	}
	return nil
}
