package worker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
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
