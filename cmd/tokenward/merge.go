package main

import (
	"errors"
	"fmt"
	"os"

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
	dst, err := store.Open(out)
	if err != nil {
		return usageError(fmt.Errorf("-o: %w", err))
	}
	defer dst.Close()
	for _, a := range args {
		if err := dst.Merge(cmdContext(cmd), a); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	c, err := dst.Counts()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	fmt.Fprintf(os.Stderr, "tokenward: merged %d stores into %s: %d repositories, %d distinct secrets at %d locations, %d blobs scanned\n",
		len(args), out, c.Repos, c.Fingerprints, c.Locations, c.ScannedBlobs)
	return nil
}
