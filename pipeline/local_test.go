package pipeline

import (
	"testing"

	"github.com/tokenward/tokenward/source"
	gitsrc "github.com/tokenward/tokenward/source/git"
)

// The git source scans packed deltas around their changes only through a scanner
// that says where the engine's findings factor: the content scanner, with or
// without progress counting, must say it.
func TestScannersAreLocal(t *testing.T) {
	for name, sc := range map[string]source.Scanner{
		"content":  &ContentScanner{},
		"counting": counting{&ContentScanner{}, &Progress{}},
	} {
		if _, ok := sc.(gitsrc.Local); !ok {
			t.Errorf("%s scanner does not implement source/git.Local", name)
		}
		if _, ok := sc.(interface{ Windowable([]byte) bool }); !ok {
			t.Errorf("%s scanner does not say which content it reads in windows", name)
		}
	}
}
