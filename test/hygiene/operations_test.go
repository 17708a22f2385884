package hygiene

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

// statusWriters are the folders whose code writes conditions and records Events that an admin
// reads with kubectl (admission's reasons are the README's, see TestTheREADMEListsEveryDenial).
var statusWriters = []string{"reconciler", "internal/backoff", "internal/routeuse", "internal/claimstatus"}

// TestOperationsDocumentsEveryReasonTheReconcilersWrite reads the reconcilers: every condition
// reason, Event reason and zone condition of api/v1alpha1 they use is named, in backquotes, in
// docs/operations.md, the page an admin looks a reason up in.
func TestOperationsDocumentsEveryReasonTheReconcilersWrite(t *testing.T) {
	values := apiConstants(t)
	used := map[string]bool{}
	for _, dir := range statusWriters {
		err := filepath.WalkDir(filepath.Join("../..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "v1alpha1" {
						for _, prefix := range []string{"Reason", "Event", "ZoneCondition"} {
							if strings.HasPrefix(sel.Sel.Name, prefix) {
								used[sel.Sel.Name] = true
							}
						}
					}
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	require.NotEmpty(t, used)
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	var missing []string
	for name := range used {
		v, ok := values[name]
		require.True(t, ok, "%s is not a string constant of api/v1alpha1", name)
		if name == "ReasonWaitingPrefix" {
			v += "<Step>" // Ready's reason while a step has not started, documented as a pattern
		}
		if !strings.Contains(string(doc), "`"+v+"`") {
			missing = append(missing, name+" ("+v+")")
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "docs/operations.md does not name these reasons the reconcilers write")
}

// apiConstants are the string constants of api/v1alpha1 by name.
func apiConstants(t *testing.T) map[string]string {
	t.Helper()
	entries, err := os.ReadDir("../../api/v1alpha1")
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("../../api/v1alpha1", e.Name()), nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							out[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return out
}
