package webhook_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verb matches the fmt verbs of a denial's format string.
var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// fixedParts splits a format, its verbs replaced by NUL, into the parts a reader would quote.
var fixedParts = regexp.MustCompile(`[\x00();:]+`)

// denialFormats returns the format strings of every denial written in the Go files of dirs:
// the format of each Deny call, and the message of each field.Forbidden, field.Invalid and
// field.Required and of each error a NewForbidden carries, where it is a literal or a
// fmt.Sprintf / fmt.Errorf of one.
func denialFormats(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				var msg ast.Expr
				switch {
				case sel.Sel.Name == "Deny" && len(call.Args) >= 2:
					msg = call.Args[1]
				case isPkg(sel, "field") && (sel.Sel.Name == "Forbidden" || sel.Sel.Name == "Required") && len(call.Args) == 2:
					msg = call.Args[1]
				case isPkg(sel, "field") && sel.Sel.Name == "Invalid" && len(call.Args) == 3:
					msg = call.Args[2]
				case isPkg(sel, "apierrors") && sel.Sel.Name == "NewForbidden" && len(call.Args) == 3:
					msg = call.Args[2]
				default:
					return true
				}
				if s, ok := literalFormat(msg); ok {
					out[s] = fset.Position(call.Pos()).String()
				}
				return true
			})
		}
	}
	return out
}

func isPkg(sel *ast.SelectorExpr, name string) bool {
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == name
}

// literalFormat is e's format string: e itself, or the first argument of the fmt.Sprintf or
// fmt.Errorf it is, when that is a string literal.
func literalFormat(e ast.Expr) (string, bool) {
	if call, ok := e.(*ast.CallExpr); ok {
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !isPkg(sel, "fmt") || len(call.Args) == 0 {
			return "", false
		}
		e = call.Args[0]
	}
	return stringConstant(e)
}

// stringConstant is the value of a string literal, or of literals joined with "+" (a long
// message written over several lines).
func stringConstant(e ast.Expr) (string, bool) {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
		x, okX := stringConstant(b.X)
		y, okY := stringConstant(b.Y)
		return x + y, okX && okY
	}
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestTheREADMEListsEveryDenial: every message the webhooks deny with is in the README's
// troubleshooting, recognised by the fixed parts of its diagnosis (the text between the values,
// up to the first ";"): a denial added without a line there fails this test.
func TestTheREADMEListsEveryDenial(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	readme := string(raw)
	start := strings.Index(readme, "## Troubleshooting")
	require.GreaterOrEqual(t, start, 0)
	trouble := readme[start:]
	if end := strings.Index(trouble[1:], "\n## "); end >= 0 {
		trouble = trouble[:end+1]
	}
	trouble = strings.Join(strings.Fields(trouble), " ") // README lines wrap anywhere

	formats := denialFormats(t, ".", filepath.Join("..", "internal", "ownership"))
	require.Greater(t, len(formats), 25, "the denials are found")
	for format, where := range formats {
		diagnosis, _, _ := strings.Cut(format, ";") // what follows is advice, which the README may word its own way
		var missing []string
		for _, part := range fixedParts.Split(verb.ReplaceAllString(diagnosis, "\x00"), -1) {
			part = strings.TrimSpace(strings.Trim(strings.TrimSpace(part), `",.`))
			if len(part) < 10 {
				continue
			}
			if !strings.Contains(trouble, part[:min(len(part), 24)]) {
				missing = append(missing, part)
			}
		}
		assert.Empty(t, missing, "README's troubleshooting does not list the denial %q (%s): these parts are missing", format, where)
	}
}
