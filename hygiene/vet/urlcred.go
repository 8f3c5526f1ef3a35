package vet

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/tokenward/tokenward/hygiene"
)

// URLCred reports credentials placed in URL query strings.
var URLCred = &analysis.Analyzer{
	Name: "urlcred",
	Doc: `report credentials placed in URL query strings

urlcred reports string concatenation and fmt.Sprintf formats that append a
credential parameter to a URL ("?token="+t, "&api_key=%s"), and url.Values whose
credential keys (token, access_token, api_key, password, ...) are encoded into
a URL's query (u.RawQuery = v.Encode(), "?"+v.Encode()). Form bodies
(http.PostForm, strings.NewReader(v.Encode())) are not reported. Query strings
end up in server, proxy and browser logs and Referer headers: send credentials
in the Authorization header.`,
	URL:      "https://github.com/tokenward/tokenward/blob/main/docs/hygiene.md",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      runURLCred,
}

// queryParamRe finds `?name=` or `&name=` at the end of a constant.
var queryParamRe = regexp.MustCompile(`[?&#]([A-Za-z][A-Za-z0-9_.\-]*)=$`)

// formatParamRe finds `?name=%s` in a format string.
var formatParamRe = regexp.MustCompile(`[?&#]([A-Za-z][A-Za-z0-9_.\-]*)=%[-+# 0-9.*]*[svqd]`)

func urlMessage(name string) string {
	return "url-credential-query-dynamic: credential " + name + " is put into a URL query string; URLs end up in " +
		"server, proxy and browser logs and Referer headers — send it in the Authorization header " +
		`(req.Header.Set("Authorization", "Bearer "+token))`
}

func runURLCred(pass *analysis.Pass) (any, error) {
	ins := inspectorOf(pass)
	// Concatenation: report each top-level + chain once.
	ins.WithStack([]ast.Node{(*ast.BinaryExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		b := n.(*ast.BinaryExpr)
		if b.Op != token.ADD {
			return true
		}
		// Only the outermost + of a chain (flattenAdd looks through parentheses).
	up:
		for i := len(stack) - 2; i >= 0; i-- {
			switch p := stack[i].(type) {
			case *ast.ParenExpr:
				continue
			case *ast.BinaryExpr:
				if p.Op == token.ADD {
					return true
				}
			}
			break up
		}
		ops := flattenAdd(b)
		for i := 0; i+1 < len(ops); i++ {
			s, ok := stringConst(pass, ops[i])
			if !ok {
				continue
			}
			if _, next := stringConst(pass, ops[i+1]); next {
				continue
			}
			if m := queryParamRe.FindStringSubmatch(s); m != nil && hygiene.CredentialParam(m[1]) {
				pass.Report(analysis.Diagnostic{Pos: ops[i].Pos(), End: ops[i+1].End(), Category: "url-credential-query-dynamic",
					Message: urlMessage(m[1])})
			}
		}
		return true
	})
	ins.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		c := n.(*ast.CallExpr)
		fn, _ := typeCallee(pass, c).(*types.Func)
		if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "fmt" || !strings.HasSuffix(fn.Name(), "printf") {
			return
		}
		fi := 0
		if fn.Name() == "Fprintf" {
			fi = 1
		}
		if len(c.Args) <= fi {
			return
		}
		format, ok := stringConst(pass, c.Args[fi])
		if !ok {
			return
		}
		for _, m := range formatParamRe.FindAllStringSubmatch(format, -1) {
			if hygiene.CredentialParam(m[1]) {
				pass.Report(analysis.Diagnostic{Pos: c.Args[fi].Pos(), End: c.Args[fi].End(), Category: "url-credential-query-dynamic",
					Message: urlMessage(m[1])})
			}
		}
	})
	checkValues(pass, ins)
	checkValuesLiterals(pass, ins)
	return nil, nil
}

func typeCallee(pass *analysis.Pass, c *ast.CallExpr) types.Object {
	switch f := ast.Unparen(c.Fun).(type) {
	case *ast.Ident:
		return pass.TypesInfo.Uses[f]
	case *ast.SelectorExpr:
		return pass.TypesInfo.Uses[f.Sel]
	}
	return nil
}

func isValues(pass *analysis.Pass, e ast.Expr) bool {
	t := pass.TypesInfo.TypeOf(e)
	return t != nil && isNamed(t, "net/url", "Values")
}

// checkValues reports credential keys of url.Values variables that a function
// encodes into a URL query.
func checkValues(pass *analysis.Pass, ins *inspector.Inspector) {
	ins.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		var body *ast.BlockStmt
		switch f := n.(type) {
		case *ast.FuncDecl:
			body = f.Body
		case *ast.FuncLit:
			body = f.Body
		}
		if body == nil {
			return
		}
		sinks := querySinks(pass, body)
		if len(sinks) == 0 {
			return
		}
		ast.Inspect(body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false // judged on its own
			}
			switch x := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range x.Lhs {
					id, ok := lhs.(*ast.Ident)
					if !ok || i >= len(x.Rhs) || !sinks[objOf(pass, id)] {
						continue
					}
					if cl, ok := ast.Unparen(x.Rhs[i]).(*ast.CompositeLit); ok && isValues(pass, cl) {
						for _, el := range cl.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								reportKey(pass, kv.Key)
							}
						}
					}
				}
			case *ast.CallExpr:
				sel, ok := ast.Unparen(x.Fun).(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Set" && sel.Sel.Name != "Add" || len(x.Args) != 2 || !isValues(pass, sel.X) {
					return true
				}
				if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && sinks[objOf(pass, id)] {
					reportKey(pass, x.Args[0])
				}
			}
			return true
		})
	})
}

// checkValuesLiterals reports credential keys of url.Values composite literals
// encoded straight into a URL query: "https://…?" + url.Values{"token": {t}}.Encode(),
// or u.RawQuery = url.Values{…}.Encode().
func checkValuesLiterals(pass *analysis.Pass, ins *inspector.Inspector) {
	literal := func(e ast.Expr) *ast.CompositeLit {
		c, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok {
			return nil
		}
		sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Encode" || !isValues(pass, sel.X) {
			return nil
		}
		cl, _ := ast.Unparen(sel.X).(*ast.CompositeLit)
		return cl
	}
	report := func(cl *ast.CompositeLit) {
		for _, el := range cl.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				reportKey(pass, kv.Key)
			}
		}
	}
	seen := map[*ast.CompositeLit]bool{}
	ins.Preorder([]ast.Node{(*ast.AssignStmt)(nil), (*ast.BinaryExpr)(nil)}, func(n ast.Node) {
		switch x := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range x.Lhs {
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "RawQuery" && i < len(x.Rhs) {
					for _, op := range flattenAdd(x.Rhs[i]) {
						if cl := literal(op); cl != nil && !seen[cl] {
							seen[cl] = true
							report(cl)
						}
					}
				}
			}
		case *ast.BinaryExpr:
			if x.Op != token.ADD {
				return
			}
			ops := flattenAdd(x)
			for i := 1; i < len(ops); i++ {
				s, ok := stringConst(pass, ops[i-1])
				if !ok || !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "&") {
					continue
				}
				if cl := literal(ops[i]); cl != nil && !seen[cl] {
					seen[cl] = true
					report(cl)
				}
			}
		}
	})
}

func reportKey(pass *analysis.Pass, key ast.Expr) {
	k, ok := stringConst(pass, key)
	if !ok || !hygiene.CredentialParam(k) {
		return
	}
	pass.Report(analysis.Diagnostic{Pos: key.Pos(), End: key.End(), Category: "url-credential-query-dynamic", Message: urlMessage(k)})
}

func objOf(pass *analysis.Pass, id *ast.Ident) types.Object {
	if o := pass.TypesInfo.Defs[id]; o != nil {
		return o
	}
	return pass.TypesInfo.Uses[id]
}

// querySinks finds url.Values variables whose Encode() ends up in a URL query:
// assigned to a RawQuery field, or concatenated after a constant holding "?".
func querySinks(pass *analysis.Pass, body *ast.BlockStmt) map[types.Object]bool {
	sinks := map[types.Object]bool{}
	encoded := func(e ast.Expr) types.Object {
		c, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok {
			return nil
		}
		sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Encode" || !isValues(pass, sel.X) {
			return nil
		}
		if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok {
			return objOf(pass, id)
		}
		return nil
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range x.Lhs {
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "RawQuery" && i < len(x.Rhs) {
					for _, op := range flattenAdd(x.Rhs[i]) {
						if o := encoded(op); o != nil {
							sinks[o] = true
						}
					}
				}
			}
		case *ast.BinaryExpr:
			if x.Op != token.ADD {
				return true
			}
			ops := flattenAdd(x)
			for i := 1; i < len(ops); i++ {
				if s, ok := stringConst(pass, ops[i-1]); ok && strings.HasSuffix(s, "?") || ok && strings.HasSuffix(s, "&") {
					if o := encoded(ops[i]); o != nil {
						sinks[o] = true
					}
				}
			}
		}
		return true
	})
	return sinks
}
