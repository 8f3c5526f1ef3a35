// Command tokenward-vet runs tokenward's token-hygiene analyzers under go vet:
//
//	go install github.com/tokenward/tokenward/cmd/tokenward-vet@latest
//	go vet -vettool=$(which tokenward-vet) ./...
//
// It reports hard-coded credentials (credliteral), credentials put into URL
// query strings (urlcred) and malformed Authorization headers (authheader), with
// suggested fixes where one is obvious. Run a single analyzer with, e.g.,
// -authheader; point credliteral at a rule configuration with
// -credliteral.config=.tokenward.toml. See docs/hygiene.md.
package main

import (
	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/tokenward/tokenward/hygiene/vet"
)

func main() { unitchecker.Main(vet.Analyzers...) }
