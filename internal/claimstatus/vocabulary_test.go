package claimstatus

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventfReason is the position of the reason among Eventf's arguments (client-go's recorder:
// regarding, related, type, reason, action, note, ...).
const eventfReason = 3

// reasonParams finds, in the parsed files, every function (declared, or a function literal
// given a name with :=) with a parameter named reason, and the parameter's position: by
// directory for unexported names, and across packages for exported ones (called as pkg.Name).
func reasonParams(files map[string]*ast.File) (local map[string]map[string]int, exported map[string]int) {
	local, exported = map[string]map[string]int{}, map[string]int{"Eventf": eventfReason}
	add := func(dir, name string, ft *ast.FuncType) {
		i := 0
		for _, field := range ft.Params.List {
			names := field.Names
			if len(names) == 0 {
				i++
				continue
			}
			for _, n := range names {
				if n.Name == "reason" {
					if ast.IsExported(name) {
						exported[name] = i
					}
					if local[dir] == nil {
						local[dir] = map[string]int{}
					}
					local[dir][name] = i
				}
				i++
			}
		}
	}
	for path, f := range files {
		dir := filepath.Dir(path)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				add(dir, n.Name.Name, n.Type)
			case *ast.AssignStmt:
				for i, rhs := range n.Rhs {
					if fl, ok := rhs.(*ast.FuncLit); ok && i < len(n.Lhs) {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							add(dir, id.Name, fl.Type)
						}
					}
				}
			}
			return true
		})
	}
	return local, exported
}

// notYetNamed are the reasons still spelled out where they are written, each with the
// api/v1alpha1 constant of the same value that should replace it. Delete an entry when its
// file uses the constant; add none.
var notYetNamed = map[string]string{}

// v1alpha1Strings reads the value of every string constant declared in api/v1alpha1, by name.
func v1alpha1Strings(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, err := filepath.Glob("../../api/v1alpha1/*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, err := strconv.Unquote(lit.Value)
							require.NoError(t, err)
							out[name.Name] = v
						}
					}
				}
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestEveryReasonIsNamedInAPIv1alpha1 reads the reconcilers, the webhooks and the internal
// packages: a condition or Event reason is a constant of api/v1alpha1, never a string spelled
// out where it is written, so that users and the other reconcilers match on one vocabulary
// (issue 9).
func TestEveryReasonIsNamedInAPIv1alpha1(t *testing.T) {
	consts := v1alpha1Strings(t)
	files := map[string]*ast.File{}
	for _, root := range []string{"../../reconciler", "../../internal", "../../webhook"} {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			files[strings.TrimPrefix(filepath.ToSlash(path), "../../")] = f
			return err
		}))
	}
	local, exported := reasonParams(files)
	require.Equal(t, 4, exported["Set"], "conditions.Set is found")
	found := map[string]bool{}
	calls := 0
	for rel, f := range files {
		check := func(e ast.Expr) {
			calls++
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return
			}
			v, _ := strconv.Unquote(lit.Value)
			key := rel + ":" + v
			if name, ok := notYetNamed[key]; ok {
				found[key] = true
				assert.Equal(t, v, consts[name], "api/v1alpha1.%s spells %s's reason %q", name, rel, v)
				return
			}
			t.Errorf("%s: reason %q is spelled out; name it in api/v1alpha1 and use the constant", rel, v)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				i, ok := -1, false
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					i, ok = local[filepath.Dir(rel)][fn.Name]
				case *ast.SelectorExpr:
					if i, ok = exported[fn.Sel.Name]; !ok {
						i, ok = local[filepath.Dir(rel)][fn.Sel.Name] // a method of the package
					}
				}
				if ok && i < len(n.Args) {
					check(n.Args[i])
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Reason" {
					check(n.Value)
				}
			}
			return true
		})
	}
	assert.Greater(t, calls, 50, "the reasons written are found")
	for key := range notYetNamed {
		assert.True(t, found[key], "%s is named now: delete its entry from notYetNamed", key)
	}
}

// statusWriters are the folders whose code writes the conditions and records the Events an admin
// reads with kubectl (admission's reasons are the README's, see TestTheREADMEListsEveryDenial).
var statusWriters = []string{"../../reconciler", "../../internal/backoff", "../../internal/routeuse", "../../internal/claimstatus"}

// TestOperationsNamesEveryReasonTheReconcilersWrite reads the reconcilers: every condition
// reason, Event reason and zone condition of api/v1alpha1 they use is named, in backquotes, in
// docs/operations.md, the page an admin looks a reason up in.
func TestOperationsNamesEveryReasonTheReconcilersWrite(t *testing.T) {
	consts := v1alpha1Strings(t)
	used := map[string]bool{}
	for _, root := range statusWriters {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "v1alpha1" {
					for _, prefix := range []string{"Reason", "Event", "ZoneCondition"} {
						if strings.HasPrefix(sel.Sel.Name, prefix) {
							used[sel.Sel.Name] = true
						}
					}
				}
				return true
			})
			return nil
		}))
	}
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	var missing []string
	for name := range used {
		v, ok := consts[name]
		require.True(t, ok, "%s is not a string constant of api/v1alpha1", name)
		if name == "ReasonWaitingPrefix" {
			v += "<Step>" // Ready's reason while a step has not started, documented as a pattern
		}
		if !strings.Contains(string(doc), "`"+v+"`") {
			missing = append(missing, name+" ("+v+")")
		}
	}
	require.NotEmpty(t, used)
	sort.Strings(missing)
	assert.Empty(t, missing, "docs/operations.md does not name these reasons the reconcilers write")
}
