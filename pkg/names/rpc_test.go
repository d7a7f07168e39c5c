package names_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/names"
)

func TestRPCSubjects(t *testing.T) {
	t.Parallel()
	for _, n := range []names.NATS{names.NewNATS(""), names.NewNATS("fleet1")} {
		subj := n.RPC(7, "ch_abc", "group.create")
		k, ch, method, err := n.ParseRPC(subj)
		require.NoError(t, err)
		require.Equal(t, 7, k)
		require.Equal(t, "ch_abc", ch)
		require.Equal(t, "group.create", method)
		require.Equal(t, n.Prefix() != "", subj[:len("fleet1.")] == "fleet1.")
		require.Equal(t, n.RPCShardFilter(7)[:len(n.RPCShardFilter(7))-1], subj[:len(n.RPCShardFilter(7))-1], "the shard's filter covers it")
	}
	n := names.NewNATS("")
	for _, bad := range []string{
		"wa.rpc.7.ch_abc",            // no method
		"wa.rpc.x.ch_abc.group.list", // shard not a number
		"wa.rpc.-1.ch_abc.group.list",
		"wa.rpc.7..group.list",
		"wa.rpc.7.ch_abc.group.",
		"wa.rpc.7.ch_abc.group..list",
		"wa.cmd.ch_abc.start",
		"p.wa.rpc.7.ch_abc.group.list", // another fleet's
	} {
		_, _, _, err := n.ParseRPC(bad)
		require.ErrorIs(t, err, names.ErrBadSubject, bad)
	}
}
