package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"path"
	"sort"
	"strconv"
	"strings"
)

// DefaultLanguage is the page's language when Accept-Language names none
// of the catalogs.
const DefaultLanguage = "en"

// Languages are the dashboard's languages: one catalog each under
// static/assets/locales, the default first.
var Languages = func() []string {
	out := []string{DefaultLanguage}
	for name := range files {
		if dir, base := path.Split(name); dir == "/assets/locales/" && strings.HasSuffix(base, ".json") {
			if l := strings.TrimSuffix(base, ".json"); l != DefaultLanguage {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out[1:])
	return out
}()

// Negotiate picks the dashboard language for an Accept-Language header:
// the first range by quality that names a catalog exactly (pt-BR), else by
// its primary subtag (pt-PT → pt-BR, es-MX → es); "in" is the old code of
// Indonesian. Nothing matching gives DefaultLanguage.
func Negotiate(acceptLanguage string) string {
	type rng struct {
		tag string
		q   float64
	}
	var ranges []rng
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if tag = strings.TrimSpace(tag); tag != "" && q > 0 {
			ranges = append(ranges, rng{tag, q})
		}
	}
	sort.SliceStable(ranges, func(i, j int) bool { return ranges[i].q > ranges[j].q })
	primary := func(tag string) string {
		p, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if p == "in" {
			return "id"
		}
		return p
	}
	for _, r := range ranges {
		for _, l := range Languages {
			if strings.EqualFold(r.tag, l) {
				return l
			}
		}
		for _, l := range Languages {
			if primary(r.tag) == primary(l) {
				return l
			}
		}
	}
	return DefaultLanguage
}

// pages is index.html in each language: <html lang> tells the script which
// catalog to load, and the <noscript> notice is in the language already.
var pages = func() map[string]*file {
	index := files["/index.html"]
	en := catalog(DefaultLanguage)
	out := map[string]*file{}
	for _, l := range Languages {
		data := bytes.Replace(index.data, []byte(`<html lang="en">`), []byte(`<html lang="`+l+`">`), 1)
		if msg, ok := catalog(l)["app.noscript"].(string); ok {
			if was, ok := en["app.noscript"].(string); ok {
				data = bytes.Replace(data, []byte(">"+html.EscapeString(was)+"<"), []byte(">"+html.EscapeString(msg)+"<"), 1)
			}
		}
		sum := sha256.Sum256(data)
		out[l] = &file{name: index.name, data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: index.ctype}
	}
	return out
}()

// catalog is the embedded catalog of language l; plural texts are objects.
func catalog(l string) map[string]any {
	var c map[string]any
	if f, ok := files["/assets/locales/"+l+".json"]; ok {
		_ = json.Unmarshal(f.data, &c)
	}
	return c
}
