package ruletable

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tokenward/tokenward/rules"
)

// TestBuiltinTableFresh fails when builtin/*.toml changed without the table being
// regenerated: the scanner would run stale rules.
func TestBuiltinTableFresh(t *testing.T) {
	set, err := rules.LoadBuiltinTOML()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Source(set)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rules/%s is stale: run `go generate ./rules` and commit the result", FileName)
	}
}

// TestTableMatchesTOML compares what Builtin serves (the table) with the TOML
// compiled afresh, field by field, including the derived anchors and limits.
func TestTableMatchesTOML(t *testing.T) {
	fromTOML, err := rules.LoadBuiltinTOML()
	if err != nil {
		t.Fatal(err)
	}
	fromTable, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if fromTable.Hash != fromTOML.Hash {
		t.Errorf("hash: table %s, TOML %s", fromTable.Hash, fromTOML.Hash)
	}
	if len(fromTable.Rules) != len(fromTOML.Rules) {
		t.Fatalf("table has %d rules, TOML %d", len(fromTable.Rules), len(fromTOML.Rules))
	}
	for i, want := range fromTOML.Rules {
		got := fromTable.Rules[i]
		if got.ID != want.ID {
			t.Fatalf("rule %d: table %q, TOML %q", i, got.ID, want.ID)
		}
		if !got.Builtin() {
			t.Errorf("%s: not marked built-in", got.ID)
		}
		gv, wv := reflect.ValueOf(*got), reflect.ValueOf(*want)
		for f := range gv.NumField() {
			field := gv.Type().Field(f)
			if !field.IsExported() || field.Name == "Allow" || field.Name == "PathRe" {
				continue
			}
			if !reflect.DeepEqual(gv.Field(f).Interface(), wv.Field(f).Interface()) {
				t.Errorf("%s: %s differs: table %v, TOML %v", got.ID, field.Name, gv.Field(f), wv.Field(f))
			}
		}
		if len(got.Allow) != len(want.Allow) {
			t.Fatalf("%s: %d allow entries, TOML %d", got.ID, len(got.Allow), len(want.Allow))
		}
		for j := range want.Allow {
			g, w := got.Allow[j], want.Allow[j]
			if !reflect.DeepEqual([]any{g.Description, g.Regexes, g.Target, g.Paths, g.Stopwords},
				[]any{w.Description, w.Regexes, w.Target, w.Paths, w.Stopwords}) || len(g.Regexps()) != len(w.Regexps()) || len(g.PathRegexps()) != len(w.PathRegexps()) {
				t.Errorf("%s: allow %d differs", got.ID, j)
			}
		}
		if (got.Regexp() == nil) != (want.Regexp() == nil) || got.Regexp().String() != want.Regexp().String() {
			t.Errorf("%s: regex differs", got.ID)
		}
	}
}
