package vet

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"

	"github.com/tokenward/tokenward/engine"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/hygiene"
	"github.com/tokenward/tokenward/rules"
)

// CredLiteral reports hard-coded credentials.
var CredLiteral = &analysis.Analyzer{
	Name: "credliteral",
	Doc: `report hard-coded credentials

credliteral runs tokenward's detection rules (the built-in set, or the rules of
the file named by -credliteral.config) over each Go file, and reports string
literals assigned to credential-named variables, fields and map keys
(password, apiKey, client_secret, GITHUB_TOKEN, ...) or compared with them.
Placeholders and environment references are not reported. Where the literal is
the whole value and not a constant, it suggests reading it with os.Getenv.`,
	URL:      "https://github.com/tokenward/tokenward/blob/main/docs/hygiene.md",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runCredLiteral,
}

var configPath string

func init() {
	CredLiteral.Flags.StringVar(&configPath, "config", "", "tokenward rule configuration (TOML); default: the built-in rules")
}

var (
	engineOnce sync.Once
	vetEngine  *engine.Engine
	engineErr  error
)

func loadEngine() (*engine.Engine, error) {
	engineOnce.Do(func() {
		var set *rules.Set
		if configPath != "" {
			set, engineErr = rules.Load(rules.LoadOptions{ConfigPath: configPath})
		} else {
			set, engineErr = rules.Builtin()
		}
		if engineErr != nil {
			return
		}
		vetEngine, engineErr = engine.New(set, engine.Options{})
	})
	return vetEngine, engineErr
}

func runCredLiteral(pass *analysis.Pass) (any, error) {
	eng, err := loadEngine()
	if err != nil {
		return nil, fmt.Errorf("tokenward rules: %w", err)
	}
	ins := inspectorOf(pass)
	reported := map[token.Pos]bool{} // literal positions already reported
	for _, f := range pass.Files {
		if ast.IsGenerated(f) {
			continue
		}
		tf := pass.Fset.File(f.Pos())
		if tf == nil {
			continue
		}
		data, err := pass.ReadFile(tf.Name())
		if err != nil {
			continue // e.g. cgo-generated files
		}
		for _, fd := range eng.ScanBytes(tf.Name(), data) {
			off := offsetOf(data, fd.Line, fd.Column)
			end := offsetOf(data, fd.EndLine, fd.EndColumn)
			if off < 0 || end < off || end > tf.Size() {
				continue
			}
			pos, endPos := tf.Pos(off), tf.Pos(end)
			lit, stack := enclosingLit(f, pos)
			d := analysis.Diagnostic{Pos: pos, End: endPos, Category: fd.RuleID,
				Message: fmt.Sprintf("hard-coded credential (%s: %s) %s; load it at run time (environment, secret manager) and rotate it",
					fd.RuleID, strings.TrimSuffix(fd.Description, "."), fd.Redacted)}
			if lit != nil {
				if reported[lit.Pos()] {
					continue
				}
				reported[lit.Pos()] = true
				if v, ok := unquote(lit); ok && strings.TrimSpace(v) == fd.Secret {
					name := nameFor(stack)
					if name == "" {
						name = fd.RuleID
					}
					d.SuggestedFixes = getenvFix(pass, f, lit, stack, hygiene.EnvName(name))
				}
			}
			pass.Report(d)
		}
	}
	// Credential-named targets.
	check := func(name string, e ast.Expr, stack []ast.Node) {
		if f := fileOf(stack); f == nil || strings.HasSuffix(pass.Fset.File(f.Pos()).Name(), "_test.go") {
			return // tests are full of fake passwords; rule matches above still cover real-looking tokens
		}
		lit, ok := ast.Unparen(e).(*ast.BasicLit)
		if !ok || reported[lit.Pos()] || !hygiene.CredentialKey(name) {
			return
		}
		v, ok := unquote(lit)
		if !ok || !hygiene.CredentialValue(v) {
			return
		}
		reported[lit.Pos()] = true
		pass.Report(analysis.Diagnostic{Pos: lit.Pos(), End: lit.End(), Category: "hardcoded-credential",
			Message: fmt.Sprintf("hard-coded credential in %s (%s); load it at run time (environment, secret manager) and rotate it",
				name, finding.Redact(v)),
			SuggestedFixes: getenvFix(pass, fileOf(stack), lit, append(slices.Clone(stack), lit), hygiene.EnvName(name))})
	}
	ins.WithStack([]ast.Node{(*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil), (*ast.KeyValueExpr)(nil), (*ast.BinaryExpr)(nil)},
		func(n ast.Node, push bool, stack []ast.Node) bool {
			if !push {
				return true
			}
			switch x := n.(type) {
			case *ast.AssignStmt:
				if len(x.Lhs) == len(x.Rhs) {
					for i := range x.Lhs {
						check(exprName(pass, x.Lhs[i]), x.Rhs[i], stack)
					}
				}
			case *ast.ValueSpec:
				if len(x.Names) == len(x.Values) {
					for i := range x.Names {
						check(x.Names[i].Name, x.Values[i], stack)
					}
				}
			case *ast.KeyValueExpr:
				switch k := x.Key.(type) {
				case *ast.Ident:
					check(k.Name, x.Value, stack)
				case *ast.BasicLit:
					if s, ok := unquote(k); ok {
						check(s, x.Value, stack)
					}
				}
			case *ast.BinaryExpr:
				if x.Op == token.EQL || x.Op == token.NEQ {
					check(exprName(pass, x.X), x.Y, stack)
					check(exprName(pass, x.Y), x.X, stack)
				}
			}
			return true
		})
	return nil, nil
}

// offsetOf converts a 1-based line and rune column into a byte offset.
func offsetOf(data []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < col; c++ {
		if off >= len(data) || data[off] == '\n' {
			return off
		}
		_, n := utf8.DecodeRune(data[off:])
		off += n
	}
	return off
}

// enclosingLit finds the string literal holding pos, and the path to it.
func enclosingLit(f *ast.File, pos token.Pos) (*ast.BasicLit, []ast.Node) {
	var (
		found *ast.BasicLit
		path  []ast.Node
		stack []ast.Node
	)
	ast.Inspect(f, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if pos < n.Pos() || pos >= n.End() {
			return false
		}
		stack = append(stack, n)
		if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
			found = l
			path = append([]ast.Node(nil), stack...)
			return false
		}
		return true
	})
	return found, path
}

func fileOf(stack []ast.Node) *ast.File {
	if len(stack) > 0 {
		if f, ok := stack[0].(*ast.File); ok {
			return f
		}
	}
	return nil
}

// nameFor finds the variable, field or key a literal is assigned to.
func nameFor(stack []ast.Node) string {
	if len(stack) < 2 {
		return ""
	}
	lit := stack[len(stack)-1]
	switch p := stack[len(stack)-2].(type) {
	case *ast.AssignStmt:
		for i, r := range p.Rhs {
			if r == lit && i < len(p.Lhs) {
				return lhsName(p.Lhs[i])
			}
		}
	case *ast.ValueSpec:
		for i, v := range p.Values {
			if v == lit && i < len(p.Names) {
				return p.Names[i].Name
			}
		}
	case *ast.KeyValueExpr:
		switch k := p.Key.(type) {
		case *ast.Ident:
			return k.Name
		case *ast.BasicLit:
			s, _ := strconv.Unquote(k.Value)
			return s
		}
	}
	return ""
}

func lhsName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

// getenvFix replaces lit with os.Getenv("NAME"), importing os when needed. It
// offers nothing inside a const declaration, where a call is not allowed.
func getenvFix(pass *analysis.Pass, f *ast.File, lit *ast.BasicLit, stack []ast.Node, env string) []analysis.SuggestedFix {
	if f == nil {
		return nil
	}
	for _, n := range stack {
		if g, ok := n.(*ast.GenDecl); ok && g.Tok == token.CONST {
			return nil
		}
		if _, ok := n.(*ast.Field); ok {
			return nil // a struct tag or parameter
		}
		if _, ok := n.(*ast.ImportSpec); ok {
			return nil
		}
	}
	osName, edits := ensureImport(f, "os")
	if osName == "" {
		return nil
	}
	edits = append(edits, analysis.TextEdit{Pos: lit.Pos(), End: lit.End(), NewText: []byte(osName + ".Getenv(" + strconv.Quote(env) + ")")})
	return []analysis.SuggestedFix{{Message: "Read " + env + " from the environment", TextEdits: edits}}
}

// ensureImport returns the name under which f can use path, and the edit that
// adds the import when f lacks it ("" when the name is taken by something else).
func ensureImport(f *ast.File, path string) (string, []analysis.TextEdit) {
	quoted := strconv.Quote(path)
	for _, imp := range f.Imports {
		if imp.Path.Value != quoted {
			continue
		}
		if imp.Name == nil {
			return path, nil
		}
		if imp.Name.Name != "_" && imp.Name.Name != "." {
			return imp.Name.Name, nil
		}
	}
	if f.Scope != nil && f.Scope.Lookup(path) != nil {
		return "", nil
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		if g.Lparen.IsValid() && len(g.Specs) > 0 {
			return path, []analysis.TextEdit{{Pos: g.Specs[0].Pos(), End: g.Specs[0].Pos(), NewText: []byte(quoted + "\n\t")}}
		}
		return path, []analysis.TextEdit{{Pos: g.Pos(), End: g.Pos(), NewText: []byte("import " + quoted + "\n")}}
	}
	return path, []analysis.TextEdit{{Pos: f.Name.End(), End: f.Name.End(), NewText: []byte("\n\nimport " + quoted)}}
}
