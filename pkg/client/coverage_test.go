package client_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every exported method of *Client is called by some test of this package,
// so a new method cannot land untested against a gateway.
func TestEveryClientMethodIsCalledByATest(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var methods []string
	called := map[string]bool{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err, name)
		if !strings.HasSuffix(name, "_test.go") {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || !fn.Name.IsExported() {
					continue
				}
				if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
					if id, ok := star.X.(*ast.Ident); ok && id.Name == "Client" {
						methods = append(methods, fn.Name.Name)
					}
				}
			}
			continue
		}
		// A call c.M(...) or a method value c.M handed on to be called
		// counts; a method expression (*client.Client).M (the operations
		// table) does not.
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if _, expr := sel.X.(*ast.ParenExpr); !expr {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	require.NotEmpty(t, methods)
	var missing []string
	for _, m := range methods {
		if !called[m] {
			missing = append(missing, m)
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "exported Client methods no test calls")
}
