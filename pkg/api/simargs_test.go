package api_test

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/schemas"
)

// simArgsSchema names the OpenAPI schema of an action's body:
// send_failure → SimSendFailureArgs; actions without arguments share
// SimNoArgs.
func simArgsSchema(action string, args reflect.Type) string {
	if args.NumField() == 0 {
		return "SimNoArgs"
	}
	var b strings.Builder
	b.WriteString("Sim")
	for _, w := range strings.Split(action, "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	b.WriteString("Args")
	return b.String()
}

// jsonFields are the JSON member names of a struct type, with the struct
// type of each member that is itself an object.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct {
			ft = nil
		}
		out[name] = ft
	}
	return out
}

// sameMembers requires a schema's properties to be exactly the JSON members
// of a Go struct, recursively for members that are objects.
func sameMembers(t *testing.T, where string, schema map[string]any, typ reflect.Type) {
	t.Helper()
	require.Equal(t, false, schema["additionalProperties"], "%s refuses unknown members, as the simulator does", where)
	props, _ := schema["properties"].(map[string]any)
	fields := jsonFields(typ)
	var inSchema, inGo []string
	for name := range props {
		inSchema = append(inSchema, name)
	}
	for name := range fields {
		inGo = append(inGo, name)
	}
	slices.Sort(inSchema)
	slices.Sort(inGo)
	require.Equal(t, inGo, inSchema, "%s: the schema's properties are the simulator's arguments (%s)", where, typ)
	for name, sub := range fields {
		if sub != nil {
			child, _ := props[name].(map[string]any)
			sameMembers(t, where+"."+name, child, sub)
		}
	}
}

// TestSimulatorBodiesMatchTheSchemas keeps the OpenAPI's Sim…Args schemas,
// the sim command schema and the simulator's argument types equal, so a
// generated client sends exactly what the simulator takes.
func TestSimulatorBodiesMatchTheSchemas(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	components := walk(doc, "components", "schemas").(map[string]any)

	raw, err := fs.ReadFile(schemas.FS(), "commands/sim.json")
	require.NoError(t, err)
	var simCmd struct {
		AllOf []struct {
			If struct {
				Properties struct {
					Action struct {
						Const string `json:"const"`
					} `json:"action"`
				} `json:"properties"`
			} `json:"if"`
			Then struct {
				Properties struct {
					Args struct {
						Ref string `json:"$ref"`
					} `json:"args"`
				} `json:"properties"`
			} `json:"then"`
		} `json:"allOf"`
	}
	require.NoError(t, json.Unmarshal(raw, &simCmd))
	cmdRef := map[string]string{}
	for _, c := range simCmd.AllOf {
		cmdRef[c.If.Properties.Action.Const] = c.Then.Properties.Args.Ref
	}

	var listed []string
	for _, a := range walk(components, "SimControlArgs", "anyOf").([]any) {
		ref := a.(map[string]any)["$ref"].(string)
		listed = append(listed, strings.TrimPrefix(ref, "#/components/schemas/"))
	}

	for _, action := range api.SimActions {
		args, ok := sim.ArgumentsOf(action)
		require.True(t, ok, action)
		name := simArgsSchema(action, args)
		schema, ok := components[name].(map[string]any)
		require.True(t, ok, "schemas/openapi.yaml has %s, the body of %s", name, action)
		sameMembers(t, name, schema, args)
		require.Contains(t, listed, name, "SimControlArgs lists %s", name)
		require.Equal(t, "../openapi.json#/components/schemas/"+name, cmdRef[action], "commands/sim.json checks the args of %s against %s", action, name)
	}
}
