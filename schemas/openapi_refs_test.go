package schemas_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/schemas"
)

func openAPIMap(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	return doc
}

func at(doc any, ptr ...string) (any, bool) {
	for _, tok := range ptr {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return doc, true
}

// walk calls fn with every mapping of the document and its location.
func walk(node any, loc string, fn func(m map[string]any, loc string)) {
	switch n := node.(type) {
	case map[string]any:
		fn(n, loc)
		for k, v := range n {
			walk(v, loc+"/"+k, fn)
		}
	case []any:
		for _, v := range n {
			walk(v, loc+"/[]", fn)
		}
	}
}

// TestOpenAPIReferencesResolve catches a $ref to a component that does not
// exist: OpenAPIDocument compiles only the schemas of JSON answers, so a
// response $ref naming a missing component would otherwise go unnoticed
// (the answer would silently fall back to the default response).
func TestOpenAPIReferencesResolve(t *testing.T) {
	t.Parallel()
	doc := openAPIMap(t)
	n := 0
	walk(doc, "", func(m map[string]any, loc string) {
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return
		}
		n++
		var ptr []string
		for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			ptr = append(ptr, strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~"))
		}
		_, found := at(doc, ptr...)
		require.True(t, found, "%s: $ref %s does not resolve", loc, ref)
	})
	require.Positive(t, n)
}

// TestOpenAPIOperationsAreWellFormed checks what OpenAPI requires of
// operations and that tools rely on: unique operationIds, a declared path
// parameter for every template of the path, and known tags.
func TestOpenAPIOperationsAreWellFormed(t *testing.T) {
	t.Parallel()
	doc := openAPIMap(t)
	var tags []string
	list, _ := at(doc, "tags")
	for _, tg := range list.([]any) {
		tags = append(tags, tg.(map[string]any)["name"].(string))
	}
	ops, err := schemas.Operations()
	require.NoError(t, err)
	require.NotEmpty(t, ops)
	ids := map[string]string{}
	template := regexp.MustCompile(`\{([^}]+)\}`)
	// paramNames resolves a parameter list ($ref or inline) to its path
	// parameters' names.
	paramNames := func(v any) []string {
		var out []string
		l, _ := v.([]any)
		for _, p := range l {
			pm := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				r, found := at(doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
				require.True(t, found, ref)
				pm = r.(map[string]any)
			}
			if pm["in"] == "path" {
				out = append(out, pm["name"].(string))
			}
		}
		return out
	}
	for _, op := range ops {
		item, _ := at(doc, "paths", op.Path)
		o, _ := at(item, strings.ToLower(op.Method))
		om := o.(map[string]any)

		id, _ := om["operationId"].(string)
		require.NotEmpty(t, id, "%s has no operationId", op)
		require.Empty(t, ids[id], "operationId %s of %s is also used by %s", id, op, ids[id])
		ids[id] = op.String()

		declared := append(paramNames(item.(map[string]any)["parameters"]), paramNames(om["parameters"])...)
		for _, m := range template.FindAllStringSubmatch(op.Path, -1) {
			require.Contains(t, declared, m[1], "%s does not declare its path parameter %s", op, m[1])
		}

		opTags, _ := om["tags"].([]any)
		require.NotEmpty(t, opTags, "%s has no tag", op)
		for _, tg := range opTags {
			require.True(t, slices.Contains(tags, tg.(string)), "%s has the undeclared tag %s", op, tg)
		}
	}
}

// A description with ", " left unquoted inside { } is cut there by YAML and
// the rest becomes a bogus property name, which always has a space.
func TestOpenAPIPropertyNamesHaveNoSpaces(t *testing.T) {
	walk(openAPIMap(t), "", func(m map[string]any, loc string) {
		props, ok := m["properties"].(map[string]any)
		if !ok {
			return
		}
		for name := range props {
			require.NotContains(t, name, " ", "%s/properties: a description cut at \", \"? quote it", loc)
		}
	})
}
