package api_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/schemas"
)

// TestEnumsMatchTheCode keeps the lists the schemas spell out in step with
// the constants of the code.
func TestEnumsMatchTheCode(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	enum := func(name string) []string { return doc.Components.Schemas[name].Enum }

	require.Equal(t, state.All, enum("State"))
	require.Equal(t, []string{store.DesiredRunning, store.DesiredStopped, store.DesiredDeleted}, enum("DesiredState"))
	require.Equal(t, sim.Actions(), api.SimActions, "the API offers every simulator action")
	require.Equal(t, api.SimActions, enum("SimAction"))

	raw, err := fs.ReadFile(schemas.FS(), "commands/sim.json")
	require.NoError(t, err)
	var simCmd struct {
		Properties struct {
			Action struct {
				Enum []string `json:"enum"`
			} `json:"action"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(raw, &simCmd))
	require.Equal(t, api.SimActions, simCmd.Properties.Action.Enum)

	raw, err = fs.ReadFile(schemas.FS(), "commands/lifecycle.json")
	require.NoError(t, err)
	var life struct {
		Verbs []string `json:"x-wagate-verbs"`
	}
	require.NoError(t, json.Unmarshal(raw, &life))
	require.Equal(t, command.Lifecycle, life.Verbs)

	raw, err = fs.ReadFile(schemas.FS(), "events/connection.status_changed.json")
	require.NoError(t, err)
	var changed struct {
		Defs struct {
			State struct {
				Enum []string `json:"enum"`
			} `json:"state"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(raw, &changed))
	require.Equal(t, state.All, changed.Defs.State.Enum)
	require.True(t, slices.IsSorted(api.SimActions))

	var full map[string]any
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &full))
	for _, name := range []string{"BulkRequest", "BulkResponse", "CommandAccepted"} {
		require.Equal(t, command.Lifecycle, stringList(walk(full, "components", "schemas", name, "properties", "action", "enum")), name)
	}
}

func walk(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
