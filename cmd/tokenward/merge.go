package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/sweep/store"
)

var mergeCmd = &cobra.Command{
	Use:   "merge STORE.db... -o OUT.db",
	Short: "Combine sweep stores (e.g. of shards) into one",
	Long: `Merge sweep stores into OUT.db (created if missing; an existing OUT.db is merged
into). Merging is idempotent and order-free: any order, and merging a store twice,
give the same result. Of two rows for one repository the latest scan wins; findings
and locations are united (each keeps its earliest sighting); verifications keep the
latest check; triage decisions are united (the latest is the state).`,
	Args: cobra.MinimumNArgs(1),
	RunE: runMerge,
}

func init() { rootCmd.AddCommand(mergeCmd) }

func runMerge(cmd *cobra.Command, args []string) error {
	out := common.output
	if out == "" || out == "-" {
		return usageError(errors.New("merge needs -o OUT.db"))
	}
	for _, a := range args {
		if _, err := os.Stat(a); err != nil {
			return usageError(fmt.Errorf("merge: %w", err))
		}
	}
	// Check every input is a store before anything is written.
	for _, a := range args {
		st, err := store.Open(a)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("merge: %w; nothing was written to %s", err, out)}
		}
		st.Close()
	}
	// Merge into a copy, renamed over OUT.db only when every input merged: a
	// failure leaves no partial OUT.db, and an existing one as it was.
	tmp, err := tempCopy(out)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("-o: %w", err)}
	}
	done := false
	defer func() {
		if !done {
			removeStore(tmp)
		}
	}()
	dst, err := store.Open(tmp)
	if err != nil {
		return usageError(fmt.Errorf("-o: %w", err))
	}
	for _, a := range args {
		if err := dst.Merge(cmdContext(cmd), a); err != nil {
			dst.Close()
			return &exitError{code: 2, err: fmt.Errorf("%w; %s was left unchanged", err, out)}
		}
	}
	c, err := dst.Counts()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := os.Rename(tmp, out); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("-o: %w", err)}
	}
	done = true
	removeStore(tmp) // the rename moved the database; drop any -wal/-shm left
	fmt.Fprintf(os.Stderr, "tokenward: merged %d stores into %s: %d repositories, %d distinct secrets at %d locations, %d blobs scanned\n",
		len(args), out, c.Repos, c.Fingerprints, c.Locations, c.ScannedBlobs)
	return nil
}

// tempCopy returns a new private file next to out holding out's store (when out
// exists; its write-ahead log is checkpointed first), for merging into.
func tempCopy(out string) (string, error) {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".merge-*.tmp")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := os.Stat(out); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return f.Name(), nil
		}
		removeStore(f.Name())
		return "", err
	}
	st, err := store.Open(out) // checks it is a store and checkpoints its log
	if err == nil {
		err = st.Close()
	}
	if err == nil {
		var src *os.File
		if src, err = os.Open(out); err == nil {
			_, err = io.Copy(f, src)
			src.Close()
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		removeStore(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// removeStore deletes a SQLite database file and its companions.
func removeStore(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}
