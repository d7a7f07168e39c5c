package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// openAPIURL names openapi.yaml for the JSON Schema compiler.
const openAPIURL = "https://github.com/wagate/wagate/schemas/openapi.json"

// Operation is one (method, path) of the OpenAPI document, the path in
// OpenAPI form (/v1/channels/{id}).
type Operation struct {
	Method string // upper case: GET, POST, …
	Path   string
}

func (o Operation) String() string { return o.Method + " " + o.Path }

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Operations lists every operation of openapi.yaml, sorted by path then
// method, so tests can compare the document with a router.
func Operations() ([]Operation, error) {
	doc, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	return operations(doc), nil
}

// ServedBy lists the operations that part serves (sorted like Operations).
// An operation names its part in "x-wagate-served-by" (webhook, relay,
// dashboard, …: packages that mount routes on the API's engine); without
// it, the part is "api".
func ServedBy(part string) ([]Operation, error) {
	doc, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	var out []Operation
	for _, op := range operations(doc) {
		by, _ := lookup(doc, "paths", op.Path, strings.ToLower(op.Method), "x-wagate-served-by").(string)
		if by == "" {
			by = "api"
		}
		if by == part {
			out = append(out, op)
		}
	}
	return out, nil
}

func openAPIDoc() (map[string]any, error) {
	var y any
	if err := yaml.Unmarshal(OpenAPI(), &y); err != nil {
		return nil, fmt.Errorf("schemas: openapi.yaml: %w", err)
	}
	// Through JSON, so the document holds what a JSON Schema validator expects.
	b, err := json.Marshal(y)
	if err != nil {
		return nil, fmt.Errorf("schemas: openapi.yaml: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("schemas: openapi.yaml: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schemas: openapi.yaml is not a mapping")
	}
	return doc, nil
}

func operations(doc map[string]any) []Operation {
	paths, _ := doc["paths"].(map[string]any)
	var ops []Operation
	for p, item := range paths {
		item, _ := item.(map[string]any)
		for m := range item {
			if slices.Contains(httpMethods, m) {
				ops = append(ops, Operation{Method: strings.ToUpper(m), Path: p})
			}
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return ops
}

// OpenAPIDocument checks HTTP answers against the JSON bodies that
// openapi.yaml documents, for tests of the API and of the packages that
// mount routes on it. It is safe for concurrent use.
type OpenAPIDocument struct {
	ops []Operation
	// schemas of JSON answers by operation and status ("200", "default").
	schemas map[Operation]map[string]*jsonschema.Schema
	// media types documented by operation and status.
	media map[Operation]map[string][]string
}

// NewOpenAPIDocument parses openapi.yaml and compiles the schema of every
// documented JSON answer (checking that each is valid JSON Schema 2020-12
// and that its references resolve).
func NewOpenAPIDocument() (*OpenAPIDocument, error) {
	doc, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(openAPIURL, doc); err != nil {
		return nil, fmt.Errorf("schemas: openapi.yaml: %w", err)
	}
	d := &OpenAPIDocument{
		ops:     operations(doc),
		schemas: map[Operation]map[string]*jsonschema.Schema{},
		media:   map[Operation]map[string][]string{},
	}
	for _, op := range d.ops {
		opPtr := []string{"paths", op.Path, strings.ToLower(op.Method)}
		responses, ok := lookup(doc, append(opPtr, "responses")...).(map[string]any)
		if !ok || len(responses) == 0 {
			return nil, fmt.Errorf("schemas: openapi.yaml: %s documents no responses", op)
		}
		d.schemas[op] = map[string]*jsonschema.Schema{}
		d.media[op] = map[string][]string{}
		for status, resp := range responses {
			ptr := append(slices.Clone(opPtr), "responses", status)
			if ref, ok := resp.(map[string]any)["$ref"].(string); ok {
				ptr = strings.Split(strings.TrimPrefix(ref, "#/"), "/")
			}
			content, _ := lookup(doc, append(ptr, "content")...).(map[string]any)
			// A status documented without content (204, 101) is recorded too.
			d.media[op][status] = []string{}
			for mt := range content {
				d.media[op][status] = append(d.media[op][status], mt)
			}
			if _, ok := content["application/json"]; !ok {
				continue
			}
			loc := openAPIURL + "#" + pointer(append(ptr, "content", "application/json", "schema"))
			sch, err := c.Compile(loc)
			if err != nil {
				return nil, fmt.Errorf("schemas: openapi.yaml: %s answer %s: %w", op, status, err)
			}
			d.schemas[op][status] = sch
		}
	}
	return d, nil
}

// Operations lists the document's operations, sorted by path then method.
func (d *OpenAPIDocument) Operations() []Operation { return slices.Clone(d.ops) }

// Match finds the operation of a request path (/v1/channels/ch_x/qr →
// /v1/channels/{id}/qr); a literal segment wins over a template.
func (d *OpenAPIDocument) Match(method, path string) (Operation, bool) {
	segs := strings.Split(path, "/")
	best, bestScore := Operation{}, -1
	for _, op := range d.ops {
		if op.Method != method {
			continue
		}
		tsegs := strings.Split(op.Path, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score := 0
		for i, t := range tsegs {
			switch {
			case t == segs[i]:
				score++
			case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") && segs[i] != "":
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore = op, score
		}
	}
	return best, bestScore >= 0
}

// CheckResponse reports whether an answer of op is documented: its status
// (or a default answer) with its media type, and, for JSON, that the body
// validates against the documented schema.
func (d *OpenAPIDocument) CheckResponse(op Operation, status int, contentType string, body []byte) error {
	schemas, ok := d.schemas[op]
	if !ok {
		return fmt.Errorf("schemas: %s is not documented", op)
	}
	key := strconv.Itoa(status)
	if _, ok := d.media[op][key]; !ok {
		key = "default"
		if _, ok := d.media[op][key]; !ok {
			return fmt.Errorf("schemas: %s does not document status %d", op, status)
		}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if len(d.media[op][key]) > 0 && !slices.Contains(d.media[op][key], mt) {
		return fmt.Errorf("schemas: %s answer %s is documented as %v, not %q", op, key, d.media[op][key], mt)
	}
	sch, ok := schemas[key]
	if !ok || mt != "application/json" {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("schemas: %s answer %d is not JSON: %w", op, status, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("schemas: %s answer %d: %w", op, status, err)
	}
	return nil
}

func lookup(doc any, ptr ...string) any {
	for _, tok := range ptr {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[tok]
	}
	return doc
}

// pointer builds a URL fragment holding the JSON pointer of tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
		b.WriteString("/" + url.PathEscape(t))
	}
	return b.String()
}
