package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Postgres stores neither U+0000 in text and jsonb nor invalid UTF-8.
// encoding/json would quietly turn invalid UTF-8 and lone surrogates
// (\ud800) into U+FFFD, so checkRawText refuses them in the raw body
// first, and checkText refuses U+0000 in what was decoded; query strings
// and paths are checked by CheckQuery.

// textProblem says why s cannot be stored ("" when it can).
func textProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains U+0000 (NUL), which cannot be stored; remove it"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	return ""
}

// checkRawText refuses a JSON body holding invalid UTF-8 or a \u escape
// of a lone UTF-16 surrogate, neither of which is text.
func checkRawText(body []byte) *Error {
	if !utf8.Valid(body) {
		return invalidText("the body", "is not valid UTF-8")
	}
	lone := invalidText("the body", `holds a lone UTF-16 surrogate escape (such as \ud800), which is not text`)
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' || i+1 >= len(body) {
			continue
		}
		i++ // the escaped byte; \\ is skipped whole
		if body[i] != 'u' {
			continue
		}
		r, ok := hex4(body, i+1)
		if !ok {
			continue // the decoder reports the malformed escape
		}
		i += 4
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return lone
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(body) || body[i+1] != '\\' || body[i+2] != 'u' {
				return lone
			}
			low, ok := hex4(body, i+3)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return lone
			}
			i += 6
		}
	}
	return nil
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(n), err == nil
}

// invalidText is the 400 answer to text that cannot be stored.
func invalidText(field, problem string) *Error {
	return Errorf(http.StatusBadRequest, "invalid_text", "%s %s", field, problem).
		WithDetails(map[string]string{"field": field})
}

// checkText refuses a decoded body holding a string (or map key) that
// cannot be stored, naming the field by its JSON path. json.RawMessage
// members are decoded to be checked too.
func checkText(v any) *Error {
	return walkText(reflect.ValueOf(v), "")
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func walkText(v reflect.Value, path string) *Error {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == rawMessageType {
		var x any
		if json.Unmarshal(v.Bytes(), &x) != nil {
			return nil
		}
		return walkText(reflect.ValueOf(x), path)
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkText(v.Elem(), path)
	case reflect.String:
		if p := textProblem(v.String()); p != "" {
			return invalidText(fieldName(path), p)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
			if f.Anonymous {
				name = ""
			}
			if e := walkText(v.Field(i), join(path, name)); e != nil {
				return e
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if e := walkText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); e != nil {
				return e
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if p := textProblem(k.String()); p != "" {
					return invalidText(fieldName(path)+" (a key)", p)
				}
			}
			if e := walkText(iter.Value(), join(path, k.String())); e != nil {
				return e
			}
		}
	}
	return nil
}

func join(path, name string) string {
	switch {
	case name == "":
		return path
	case path == "":
		return name
	}
	return path + "." + name
}

func fieldName(path string) string {
	if path == "" {
		return "(body)"
	}
	return strings.ToValidUTF8(strings.ReplaceAll(path, "\x00", `\u0000`), "\uFFFD")
}

// CheckQuery refuses a request whose path or query string holds text
// that cannot be stored (a NUL or invalid UTF-8, as in ?before=msg_%00):
// such a value would fail inside Postgres and answer 500. Mount it before
// the routes.
func CheckQuery() gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := textProblem(c.Request.URL.Path); p != "" {
			Abort(c, invalidText("the path", p))
			return
		}
		for k, vs := range c.Request.URL.Query() {
			if p := textProblem(k); p != "" {
				Abort(c, invalidText("a query parameter name", p))
				return
			}
			for _, v := range vs {
				if p := textProblem(v); p != "" {
					Abort(c, invalidText("query parameter "+strconv.Quote(k), p))
					return
				}
			}
		}
		c.Next()
	}
}
