// Package vet holds tokenward's go/analysis analyzers, run by
// `go vet -vettool=$(which tokenward-vet) ./...`:
//
//   - credliteral: hard-coded credential literals, found by tokenward's detection
//     rules and by credential-named variables, fields and map keys;
//   - urlcred: credentials placed in URL query strings;
//   - authheader: malformed Authorization headers set through net/http.
package vet

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Analyzers are all of tokenward-vet's analyzers.
var Analyzers = []*analysis.Analyzer{CredLiteral, URLCred, AuthHeader}

func inspectorOf(pass *analysis.Pass) *inspector.Inspector {
	return pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
}

// stringConst returns the value of a constant string expression.
func stringConst(pass *analysis.Pass, e ast.Expr) (string, bool) {
	tv, ok := pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// isNamed reports whether t (or *t) is the named type pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// exprName is the identifier an expression is best known by: x -> x,
// cfg.APIToken -> APIToken, getToken() -> getToken, env["TOKEN"] -> TOKEN.
func exprName(pass *analysis.Pass, e ast.Expr) string {
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.CallExpr:
		if fn := typeutilCallee(x); fn != "" {
			if fn == "Getenv" || fn == "LookupEnv" {
				if len(x.Args) > 0 {
					if s, ok := stringConst(pass, x.Args[0]); ok {
						return s
					}
				}
			}
			return fn
		}
	case *ast.IndexExpr:
		if s, ok := stringConst(pass, x.Index); ok {
			return s
		}
		return exprName(pass, x.X)
	case *ast.StarExpr:
		return exprName(pass, x.X)
	}
	return ""
}

func typeutilCallee(c *ast.CallExpr) string {
	switch f := ast.Unparen(c.Fun).(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// literalText renders a new string literal in the style of the one it replaces.
func literalText(old *ast.BasicLit, val string) string {
	if strings.HasPrefix(old.Value, "`") && !strings.Contains(val, "`") && !strings.ContainsAny(val, "\r") {
		return "`" + val + "`"
	}
	return strconv.Quote(val)
}

// unquote returns the value of a string literal.
func unquote(l *ast.BasicLit) (string, bool) {
	if l == nil || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}
