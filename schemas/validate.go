package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ErrNoSchema is returned for an event type or command verb that has no
// schema.
var ErrNoSchema = errors.New("schemas: no schema")

// Validator checks events and command bodies against the embedded JSON
// Schemas, asserting formats (date-time, …). It is safe for concurrent use.
type Validator struct {
	envelope *jsonschema.Schema
	events   map[string]*jsonschema.Schema // by event type
	commands map[string]*jsonschema.Schema // by verb
}

// NewValidator compiles every embedded schema.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	v := &Validator{events: map[string]*jsonschema.Schema{}, commands: map[string]*jsonschema.Schema{}}
	// Command schemas refer to request bodies of the HTTP API
	// (../openapi.json#/components/schemas/…) rather than copy them.
	api, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	if err := c.AddResource(openAPIURL, api); err != nil {
		return nil, fmt.Errorf("schemas: openapi.yaml: %w", err)
	}
	for _, dir := range []string{"events", "commands"} {
		names, err := fs.Glob(files, dir+"/*.json")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			doc, err := load(name)
			if err != nil {
				return nil, err
			}
			id, _ := doc["$id"].(string)
			if id == "" {
				return nil, fmt.Errorf("schemas: %s has no $id", name)
			}
			if err := c.AddResource(id, doc); err != nil {
				return nil, fmt.Errorf("schemas: %s: %w", name, err)
			}
			sch, err := c.Compile(id)
			if err != nil {
				return nil, fmt.Errorf("schemas: compile %s: %w", name, err)
			}
			base := strings.TrimSuffix(path.Base(name), ".json")
			switch {
			case dir == "events" && base == "envelope":
				v.envelope = sch
			case dir == "events":
				v.events[base] = sch
			default:
				verbs := []string{base}
				if list, ok := doc["x-wagate-verbs"].([]any); ok {
					verbs = verbs[:0]
					for _, x := range list {
						s, _ := x.(string)
						verbs = append(verbs, s)
					}
				}
				for _, verb := range verbs {
					v.commands[verb] = sch
				}
			}
		}
	}
	if v.envelope == nil {
		return nil, errors.New("schemas: events/envelope.json is missing")
	}
	return v, nil
}

func load(name string) (map[string]any, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("schemas: %s: %w", name, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schemas: %s is not a JSON object", name)
	}
	return m, nil
}

// EventTypes lists the event types that have a data schema.
func (v *Validator) EventTypes() []string { return keys(v.events) }

// CommandVerbs lists the command verbs that have a schema.
func (v *Validator) CommandVerbs() []string { return keys(v.commands) }

// ValidateEvent checks one event (its JSON as published) against the
// envelope and its data against events/<type>.json. An event type without
// a data schema fails with ErrNoSchema after the envelope passed.
func (v *Validator) ValidateEvent(raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("schemas: event is not JSON: %w", err)
	}
	if err := v.envelope.Validate(inst); err != nil {
		return fmt.Errorf("schemas: event envelope: %w", err)
	}
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("schemas: event envelope: %w", err)
	}
	sch, ok := v.events[env.Type]
	if !ok {
		return fmt.Errorf("%w for event type %q", ErrNoSchema, env.Type)
	}
	data, err := jsonschema.UnmarshalJSON(bytes.NewReader(env.Data))
	if err != nil {
		return fmt.Errorf("schemas: %s data: %w", env.Type, err)
	}
	if err := sch.Validate(data); err != nil {
		return fmt.Errorf("schemas: %s data: %w", env.Type, err)
	}
	return nil
}

// ValidateCommand checks the body of a command with verb.
func (v *Validator) ValidateCommand(verb string, raw []byte) error {
	sch, ok := v.commands[verb]
	if !ok {
		return fmt.Errorf("%w for command verb %q", ErrNoSchema, verb)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("schemas: %s command is not JSON: %w", verb, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("schemas: %s command: %w", verb, err)
	}
	return nil
}

func keys(m map[string]*jsonschema.Schema) []string { return slices.Sorted(maps.Keys(m)) }
