package worker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
)

// Every verb a worker executes has a published schema that the worker
// checks its body against (schemas/commands): a new verb needs one.
func TestEveryVerbHasACommandSchema(t *testing.T) {
	v, err := commandSchemas()
	require.NoError(t, err)
	have := v.CommandVerbs()
	for verb := range knownVerbs {
		require.True(t, slices.Contains(have, verb), "verb %q has no schema in schemas/commands (x-wagate-verbs)", verb)
	}
}

// The verb metric label is bounded: a verb the worker does not know counts
// as "other", so a publisher cannot mint label values.
func TestVerbLabel(t *testing.T) {
	for _, verb := range command.All {
		require.Equal(t, verb, verbLabel(verb))
		require.True(t, knownVerbs[verb], "worker does not handle verb %q", verb)
	}
	require.Len(t, knownVerbs, len(command.All))
	for _, verb := range []string{"teleport", "", "SEND", "send ", "download-media", "wa.cmd"} {
		require.Equal(t, "other", verbLabel(verb), "%q", verb)
	}
}
