package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenward/tokenward/sweep/store"
)

var triageFlags struct {
	db     string
	status string
	note   string
	by     string
}

var triageCmd = &cobra.Command{
	Use:   "triage FINGERPRINT... [--status STATUS --note TEXT]",
	Short: "Record a triage decision about findings in a sweep store",
	Long: `Record a decision about secrets in a sweep store, by fingerprint (tw1:…, or a
unique prefix of at least 8 hex digits):

  open            to be handled (the default state)
  false-positive  not a secret
  accepted-risk   a real secret, knowingly left
  revoked         the secret is dead

Decisions are kept as a log (time, status, note, who: --by, default $USER); the
latest is the state. tokenward report shows open findings unless --triage says
otherwise. Without --status, prints each fingerprint's decisions as JSON lines.`,
	Args: cobra.MinimumNArgs(1),
	RunE: runTriage,
}

func init() {
	f := triageCmd.Flags()
	f.StringVar(&triageFlags.db, "db", "tokenward.db", "the findings store")
	f.StringVar(&triageFlags.status, "status", "", "the decision: "+strings.Join(store.TriageStatuses(), "|"))
	f.StringVar(&triageFlags.note, "note", "", "why (kept with the decision)")
	f.StringVar(&triageFlags.by, "by", "", "who decided (default: $USER)")
	rootCmd.AddCommand(triageCmd)
}

func runTriage(cmd *cobra.Command, args []string) error {
	if triageFlags.status == "" && (triageFlags.note != "" || triageFlags.by != "") {
		return usageError(errors.New("--note and --by need --status"))
	}
	if s := triageFlags.status; s != "" {
		ok := false
		for _, v := range store.TriageStatuses() {
			ok = ok || v == s
		}
		if !ok {
			return usageError(fmt.Errorf("--status %q: want one of %s", s, strings.Join(store.TriageStatuses(), ", ")))
		}
	}
	st, err := openExistingStore(triageFlags.db)
	if err != nil {
		return err
	}
	defer st.Close()
	var fps []string
	for _, a := range args {
		fp, err := st.ResolveFingerprint(a)
		if err != nil {
			return usageError(err)
		}
		fps = append(fps, fp)
	}
	if triageFlags.status == "" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		for _, fp := range fps {
			h, err := st.TriageHistory(fp)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if len(h) == 0 {
				h = []store.TriageEntry{{Fingerprint: fp, Status: store.TriageOpen}}
			}
			for _, e := range h {
				if err := enc.Encode(e); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
		}
		return nil
	}
	by := triageFlags.by
	if by == "" {
		by = os.Getenv("USER")
	}
	now := store.Now(time.Now())
	for _, fp := range fps {
		if err := st.Triage(cmdContext(cmd), store.TriageEntry{Fingerprint: fp, At: now, Status: triageFlags.status, Note: triageFlags.note, Actor: by}); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("recording triage of %s: %w", fp, err)}
		}
		fmt.Fprintf(os.Stderr, "tokenward: %s: %s\n", fp, triageFlags.status)
	}
	return nil
}
