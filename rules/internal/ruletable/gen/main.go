// Command gen regenerates rules/builtin_table.go from rules/builtin/*.toml; run it
// with "go generate ./rules".
package main

import (
	"fmt"
	"os"

	"github.com/tokenward/tokenward/rules"
	"github.com/tokenward/tokenward/rules/internal/ruletable"
)

func main() {
	set, err := rules.LoadBuiltinTOML()
	if err == nil {
		var src []byte
		if src, err = ruletable.Source(set); err == nil {
			err = os.WriteFile(ruletable.FileName, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ruletable:", err)
		os.Exit(1)
	}
}
