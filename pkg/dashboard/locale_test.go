package dashboard_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/dashboard"
)

const localesDir = "static/assets/locales"

// loadCatalogs reads every catalog by language; values are strings or
// plural objects.
func loadCatalogs(t *testing.T) map[string]map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(localesDir, "*.json"))
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(data, &c), p)
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = c
	}
	return out
}

// forms are the texts of a catalog value: one, or one per plural category.
func forms(v any) map[string]string {
	switch x := v.(type) {
	case string:
		return map[string]string{"": x}
	case map[string]any:
		out := map[string]string{}
		for k, f := range x {
			s, _ := f.(string)
			out[k] = s
		}
		return out
	}
	return nil
}

var param = regexp.MustCompile(`\{(\w+)\}`)

func params(texts map[string]string) []string {
	set := map[string]bool{}
	for _, s := range texts {
		for _, m := range param.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCatalogsAreComplete(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	require.ElementsMatch(t, []string{"en", "pt-BR", "es", "id"}, keysOf(cats), "the four languages of issue 14")
	require.Equal(t, keysOf(cats), append([]string{}, dashboard.Languages...), "the server offers every catalog")
	en := cats["en"]
	categories := []string{"zero", "one", "two", "few", "many", "other"}
	for lang, c := range cats {
		for other, oc := range cats {
			for key := range oc {
				_, ok := c[key]
				assert.True(t, ok, "%s.json misses %q, which %s.json has", lang, key, other)
			}
		}
		for key, v := range c {
			texts := forms(v)
			require.NotNil(t, texts, "%s.json %q is neither a text nor a plural object", lang, key)
			_, plural := v.(map[string]any)
			_, enPlural := en[key].(map[string]any)
			assert.Equal(t, enPlural, plural, "%s.json %q: plural in one catalog, plain text in the other", lang, key)
			if plural {
				assert.Contains(t, texts, "other", "%s.json %q: a plural needs its other form", lang, key)
			}
			for form, s := range texts {
				if plural {
					assert.Contains(t, categories, form, "%s.json %q: %q is no plural category", lang, key, form)
				}
				assert.NotEmpty(t, strings.TrimSpace(s), "%s.json %q %s is empty", lang, key, form)
				assert.Equal(t, 0, strings.Count(s, "**")%2, "%s.json %q: unbalanced **", lang, key)
			}
			if ev, ok := en[key]; ok {
				for _, p := range params(texts) {
					assert.Contains(t, params(forms(ev)), p, "%s.json %q has {%s}, which the English text has not", lang, key, p)
				}
			}
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// usedKeys are the catalog keys the page names: t("…") and tNodes("…") in
// the scripts, data-i18n and data-i18n-<attribute> in the markup.
func usedKeys(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	calls := regexp.MustCompile(`\bt(?:Nodes)?\(\s*"([^"]+)"`)
	attrs := regexp.MustCompile(`data-i18n(?:-[a-z-]+)?="([^"]+)"`)
	paths, err := filepath.Glob("static/assets/*.js")
	require.NoError(t, err)
	paths = append(paths, "static/index.html")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, re := range []*regexp.Regexp{calls, attrs} {
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				if !slices.Contains(used[m[1]], p) {
					used[m[1]] = append(used[m[1]], p)
				}
			}
		}
	}
	return used
}

func TestEveryKeyUsedIsInTheCatalog(t *testing.T) {
	t.Parallel()
	en := loadCatalogs(t)["en"]
	used := usedKeys(t)
	require.NotEmpty(t, used)
	for key, where := range used {
		_, ok := en[key]
		assert.True(t, ok, "%v use %q, which en.json does not have", where, key)
	}
	for key := range en {
		_, ok := used[key]
		assert.True(t, ok, "en.json has %q, which no script or markup uses (keys are named literally: t(\"key\"))", key)
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header, want string
	}{
		{"", "en"},
		{"pt-BR", "pt-BR"},
		{"pt-br,pt;q=0.9,en;q=0.8", "pt-BR"},
		{"pt-PT", "pt-BR"},
		{"es-MX,es;q=0.9", "es"},
		{"id-ID", "id"},
		{"in", "id"},
		{"de-DE,de;q=0.9", "en"},
		{"de;q=0.9,es;q=0.5", "es"},
		{"en;q=0.2,id;q=0.8", "id"},
		{"fr, *;q=0.1", "en"},
		{"es;q=0, pt-BR;q=0.1", "pt-BR"},
		{"en-GB", "en"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, dashboard.Negotiate(tc.header), "Accept-Language: %s", tc.header)
	}
}

func TestThePageComesInTheNegotiatedLanguage(t *testing.T) {
	t.Parallel()
	e := engine(nil)
	pt := get(t, e, "/", map[string]string{"Accept-Language": "pt-BR,pt;q=0.9"})
	require.Equal(t, http.StatusOK, pt.Code)
	assert.Contains(t, pt.Body.String(), `<html lang="pt-BR">`)
	assert.Contains(t, pt.Body.String(), "O painel do wagate precisa de JavaScript.", "the noscript notice is translated")
	assert.Equal(t, "Accept-Language", pt.Header().Get("Vary"))
	assert.Equal(t, "pt-BR", pt.Header().Get("Content-Language"))

	en := get(t, e, "/", nil)
	assert.Contains(t, en.Body.String(), `<html lang="en">`)
	assert.NotEqual(t, en.Header().Get("ETag"), pt.Header().Get("ETag"), "each language is its own variant")
	again := get(t, e, "/", map[string]string{"Accept-Language": "pt-BR", "If-None-Match": pt.Header().Get("ETag")})
	assert.Equal(t, http.StatusNotModified, again.Code)

	cat := get(t, e, "/assets/locales/es.json", nil)
	require.Equal(t, http.StatusOK, cat.Code)
	assert.Equal(t, "application/json; charset=utf-8", cat.Header().Get("Content-Type"))
	var c map[string]any
	require.NoError(t, json.Unmarshal(cat.Body.Bytes(), &c))
	assert.Equal(t, "Cerrar sesión", c["app.signout"])
}
