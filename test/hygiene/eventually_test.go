// Package hygiene checks habits of the repository's own tests that no linter checks.
package hygiene

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waiters are testify's functions that run a callback on another goroutine, again and again.
var waiters = map[string]bool{
	"Eventually": true, "Eventuallyf": true, "EventuallyWithT": true, "EventuallyWithTf": true,
	"Never": true, "Neverf": true,
}

// TestNoRequireWithTInsideEventually reads every test file: inside a callback of Eventually,
// EventuallyWithT or Never, the test's t is never handed to require (FailNow from another
// goroutine does not stop the test, and a transient error on one tick would end it) nor to a
// helper that might. EventuallyWithT's collector is what such helpers take instead.
func TestNoRequireWithTInsideEventually(t *testing.T) {
	callbacks := 0
	testFiles(t, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !waiters[sel.Sel.Name] {
				return true
			}
			for _, arg := range call.Args {
				fl, ok := arg.(*ast.FuncLit)
				if !ok {
					continue
				}
				callbacks++
				ast.Inspect(fl.Body, func(m ast.Node) bool {
					inner, ok := m.(*ast.CallExpr)
					if !ok {
						return true
					}
					if s, ok := inner.Fun.(*ast.SelectorExpr); ok {
						if pkg, ok := s.X.(*ast.Ident); ok && pkg.Name == "assert" {
							return true // assert only records a failure: safe on any goroutine
						}
					}
					for _, a := range inner.Args {
						if id, ok := a.(*ast.Ident); ok && id.Name == "t" {
							assert.Failf(t, "t handed over inside a callback", "%s: %s gets t inside %s; use EventuallyWithT and hand over its collector, or return false",
								fset.Position(inner.Pos()), render(inner.Fun), sel.Sel.Name)
						}
					}
					return true
				})
			}
			return true
		})
	})
	assert.Greater(t, callbacks, 100, "the repository's callbacks are found")
}

// TestNoFixedSleepThenAssert reads every test file: a fixed time.Sleep followed at once by an
// assertion says "nothing happened meanwhile" without looking meanwhile; assert.Never (or
// require.Never) with the window stated looks all along.
func TestNoFixedSleepThenAssert(t *testing.T) {
	sleeps := 0
	testFiles(t, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BlockStmt)
			if !ok {
				return true
			}
			for i, st := range b.List {
				if !isCall(st, "time", "Sleep") {
					continue
				}
				sleeps++
				if i+1 < len(b.List) && (isCall(b.List[i+1], "assert", "") || isCall(b.List[i+1], "require", "")) {
					assert.Failf(t, "a fixed sleep, then an assertion", "%s: use assert.Never with the window stated", fset.Position(st.Pos()))
				}
			}
			return true
		})
	})
	assert.Positive(t, sleeps, "the repository's sleeps are found")
}

// isCall reports whether st is a call statement of pkg.name (any name of pkg when name is "").
func isCall(st ast.Stmt, pkg, name string) bool {
	es, ok := st.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg && (name == "" || sel.Sel.Name == name)
}

// testFiles parses every test file of the repository (its own module only) and hands it to check.
func testFiles(t *testing.T, check func(*token.FileSet, *ast.File)) {
	t.Helper()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "kumocheck", "node_modules", "bin", "dist":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		check(fset, f)
		return nil
	})
	require.NoError(t, err)
}

// render names a called function (pkg.Name, recv.Method or Name).
func render(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return render(e.X) + "." + e.Sel.Name
	}
	return "a function"
}
