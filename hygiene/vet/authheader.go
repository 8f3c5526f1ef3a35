package vet

import (
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"

	"github.com/tokenward/tokenward/hygiene"
)

// AuthHeader reports malformed Authorization headers set through net/http.
var AuthHeader = &analysis.Analyzer{
	Name: "authheader",
	Doc: `report malformed Authorization headers

authheader checks values given to http.Header Set/Add, http.Header{...}
literals and h["Authorization"] = ...: a scheme joined to the token without a
space ("Bearer"+tok), doubled or leading spaces, "Bearer:" punctuation,
misspelled schemes and header names, quoted tokens, Basic credentials in plain
base64 and bare tokens with no scheme. Obvious fixes are suggested.`,
	URL:      "https://github.com/tokenward/tokenward/blob/main/docs/hygiene.md",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runAuthHeader,
}

func isHeaderType(pass *analysis.Pass, e ast.Expr) bool {
	t := pass.TypesInfo.TypeOf(e)
	return t != nil && (isNamed(t, "net/http", "Header") || isNamed(t, "net/textproto", "MIMEHeader"))
}

func runAuthHeader(pass *analysis.Pass) (any, error) {
	ins := inspectorOf(pass)
	filter := []ast.Node{(*ast.CallExpr)(nil), (*ast.CompositeLit)(nil), (*ast.AssignStmt)(nil)}
	ins.Preorder(filter, func(n ast.Node) {
		switch x := n.(type) {
		case *ast.CallExpr:
			sel, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Set" && sel.Sel.Name != "Add" || len(x.Args) != 2 || !isHeaderType(pass, sel.X) {
				return
			}
			checkHeader(pass, x.Args[0], x.Args[1])
		case *ast.CompositeLit:
			if !isHeaderType(pass, x) {
				return
			}
			for _, el := range x.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if vals, ok := kv.Value.(*ast.CompositeLit); ok && len(vals.Elts) > 0 {
					checkHeader(pass, kv.Key, vals.Elts[0])
				}
			}
		case *ast.AssignStmt:
			for i, lhs := range x.Lhs {
				ix, ok := lhs.(*ast.IndexExpr)
				if !ok || i >= len(x.Rhs) || !isHeaderType(pass, ix.X) {
					continue
				}
				if vals, ok := x.Rhs[i].(*ast.CompositeLit); ok && len(vals.Elts) > 0 {
					checkHeader(pass, ix.Index, vals.Elts[0])
				}
			}
		}
	})
	return nil, nil
}

// checkHeader judges one header name and value.
func checkHeader(pass *analysis.Pass, keyExpr, val ast.Expr) {
	key, ok := stringConst(pass, keyExpr)
	if !ok {
		return
	}
	lk := strings.ToLower(key)
	v := decompose(pass, val)
	if lk != "authorization" {
		typo := hygiene.HeaderNameTypo(lk)
		authn := lk == "authentication" && startsWithScheme(v.prefix)
		if !typo && !authn {
			return
		}
		d := analysis.Diagnostic{Pos: keyExpr.Pos(), End: keyExpr.End(), Category: "auth-header-name-typo",
			Message: "auth-header-name-typo: header name " + strings.TrimSpace(key) + " is not Authorization: servers ignore it, so the " +
				"request goes out unauthenticated — spell it Authorization"}
		if lit, ok := ast.Unparen(keyExpr).(*ast.BasicLit); ok && lit.Kind == token.STRING {
			d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Spell the header Authorization",
				TextEdits: []analysis.TextEdit{{Pos: lit.Pos(), End: lit.End(), NewText: []byte(literalText(lit, "Authorization"))}}}}
		}
		pass.Report(d)
	}
	for _, p := range hygiene.JudgeAuthorization(v.prefix, v.dynamic, v.dynName) {
		d := analysis.Diagnostic{Pos: val.Pos(), End: val.End(), Category: p.Rule, Message: p.Rule + ": " + p.Message}
		if p.Fixed != "" && v.lit != nil && strings.HasPrefix(v.litVal, v.prefix) {
			newVal := p.Fixed + v.litVal[len(v.prefix):]
			d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Write " + strings.TrimSpace(newVal),
				TextEdits: []analysis.TextEdit{{Pos: v.lit.Pos(), End: v.lit.End(), NewText: []byte(literalText(v.lit, newVal))}}}}
		}
		pass.Report(d)
	}
}

func startsWithScheme(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(l, "bearer") || strings.HasPrefix(l, "token") || strings.HasPrefix(l, "basic")
}

// value is an Authorization value: the constant text up to its first dynamic
// part, and the literal that starts it (for fixes).
type value struct {
	prefix  string
	dynamic bool
	dynName string
	lit     *ast.BasicLit // the first literal of the value, if it begins with one
	litVal  string
}

// decompose splits "const" + dyn + ..., fmt.Sprintf("const%s", dyn) and plain
// constants into their constant prefix and what follows.
func decompose(pass *analysis.Pass, e ast.Expr) value {
	e = ast.Unparen(e)
	var v value
	setLit := func(x ast.Expr) {
		if l, ok := ast.Unparen(x).(*ast.BasicLit); ok {
			if s, ok := unquote(l); ok {
				v.lit, v.litVal = l, s
			}
		}
	}
	if s, ok := stringConst(pass, e); ok {
		v.prefix = s
		setLit(e)
		return v
	}
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			break
		}
		ops := flattenAdd(x)
		setLit(ops[0])
		for _, op := range ops {
			if s, ok := stringConst(pass, op); ok && !v.dynamic {
				v.prefix += s
				continue
			}
			v.dynamic = true
			v.dynName = exprName(pass, op)
			return v
		}
		return v
	case *ast.CallExpr:
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(x.Args) >= 1 {
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "fmt" {
				format, ok := stringConst(pass, x.Args[0])
				if !ok {
					break
				}
				setLit(x.Args[0])
				i := verbIndex(format)
				if i < 0 {
					v.prefix = strings.ReplaceAll(format, "%%", "%")
					return v
				}
				v.prefix = strings.ReplaceAll(format[:i], "%%", "%")
				v.dynamic = true
				if len(x.Args) > 1 {
					v.dynName = exprName(pass, x.Args[1])
				}
				if strings.Contains(format[:i], "%%") {
					v.lit = nil // prefix no longer matches the literal text
				}
				return v
			}
		}
	}
	v.dynamic = true
	v.dynName = exprName(pass, e)
	return v
}

// verbIndex returns the index of the first formatting verb, skipping %%.
func verbIndex(f string) int {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i++
			continue
		}
		return i
	}
	return -1
}

func flattenAdd(e ast.Expr) []ast.Expr {
	if b, ok := ast.Unparen(e).(*ast.BinaryExpr); ok && b.Op == token.ADD {
		return append(flattenAdd(b.X), flattenAdd(b.Y)...)
	}
	return []ast.Expr{e}
}
