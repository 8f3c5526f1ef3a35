package vet

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

func TestAuthHeader(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), AuthHeader, "authheader")
}

func TestURLCred(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), URLCred, "urlcred")
}

func TestCredLiteral(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), CredLiteral, "credliteral")
}
