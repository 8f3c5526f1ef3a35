package store

import (
	"context"
	"fmt"

	"github.com/tokenward/tokenward/finding"
)

// MigrateFingerprints renames the legacy sha256: fingerprints of a store written
// before fingerprints were keyed to the current tw1: form, with their
// locations, verification results and triage log, so triage decisions survive
// the upgrade. A row is renamed only when its stored secret hashes to its legacy
// fingerprint (which proves the fingerprint was of that secret alone); others
// (hygiene findings fingerprinted by more than the secret) are left, and a
// rescan records them anew. Call it once the fingerprint key is set. It returns
// how many fingerprints it renamed.
func (s *Store) MigrateFingerprints(ctx context.Context) (int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT fingerprint, rule_id, secret FROM findings WHERE fingerprint LIKE ? AND secret != ''`, finding.LegacyFingerprintPrefix+"%")
	if err != nil {
		return 0, err
	}
	type rename struct{ old, new string }
	var todo []rename
	for rows.Next() {
		var fp, rule, secret string
		if err := rows.Scan(&fp, &rule, &secret); err != nil {
			rows.Close()
			return 0, err
		}
		if finding.LegacyFingerprint(rule, secret) == fp {
			todo = append(todo, rename{fp, finding.Fingerprint(rule, secret)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(todo) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// A row already under the new name (written by a newer scan) wins; the
	// legacy row's locations, results and triage join it.
	stmts := []string{
		`UPDATE OR IGNORE findings SET fingerprint = ?2 WHERE fingerprint = ?1`,
		`DELETE FROM findings WHERE fingerprint = ?1`,
		`UPDATE OR IGNORE locations SET fingerprint = ?2 WHERE fingerprint = ?1`,
		`DELETE FROM locations WHERE fingerprint = ?1`,
		`UPDATE OR IGNORE verifications SET fingerprint = ?2 WHERE fingerprint = ?1`,
		`DELETE FROM verifications WHERE fingerprint = ?1`,
		`UPDATE OR IGNORE triage SET fingerprint = ?2 WHERE fingerprint = ?1`,
		`DELETE FROM triage WHERE fingerprint = ?1`,
	}
	for _, r := range todo {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, r.old, r.new); err != nil {
				return 0, fmt.Errorf("migrating fingerprint %s: %w", r.old, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(todo), nil
}
