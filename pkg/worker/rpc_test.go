package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

func (f *fleet) groups(timeout time.Duration) *groups.Client {
	return groups.NewClient(groups.ClientConfig{Conn: f.bus.Conn, Names: f.bus.Names, Shards: f.shards, Timeout: timeout})
}

// codeOf returns the code of a refused request.
func codeOf(t *testing.T, err error) string {
	t.Helper()
	var e *groups.Error
	require.ErrorAs(t, err, &e)
	return e.Code
}

// Requests reach the session of the shard's owner; the group registry of
// the simulator, and the subscription, move with the shard.
func TestRequestsFollowTheShard(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	a := f.startWorker("a")
	ch := f.pairedChannel("groups")
	cli := f.groups(5 * time.Second)
	ctx := context.Background()

	var list []groups.Group
	require.NoError(t, cli.Call(ctx, ch, groups.MethodList, groups.Params{}, &list))
	require.NotNil(t, list)
	require.Empty(t, list)
	var created groups.Created
	require.NoError(t, cli.Call(ctx, ch, groups.MethodCreate, groups.Params{Name: "Moves", Participants: []string{"15550004001@s.whatsapp.net"}}, &created))
	testenv.Eventually(t, 5*time.Second, func() bool { return countType(f.events(ch), event.GroupCreated) == 1 }, "group.created")

	a.stop()
	start := time.Now()
	err := cli.Call(ctx, ch, groups.MethodList, groups.Params{}, nil)
	require.Equal(t, groups.CodeChannelUnavailable, codeOf(t, err), "no owner: %v", err)
	require.Less(t, time.Since(start), time.Second, "no owner is known at once, not after the timeout")

	f.startWorker("b")
	f.waitState(ch, state.Active, 10*time.Second)
	testenv.Eventually(t, 10*time.Second, func() bool {
		list = nil
		return cli.Call(ctx, ch, groups.MethodList, groups.Params{}, &list) == nil && len(list) == 1
	}, "the new owner to answer with the group")
	require.Equal(t, created.ID, list[0].ID)
	var info groups.Group
	require.NoError(t, cli.Call(ctx, ch, groups.MethodInfo, groups.Params{Group: created.ID}, &info))
	require.Equal(t, "Moves", info.Name)
}

func TestRequestsRefused(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w")
	active := f.pairedChannel("active")
	idle := f.createChannel("idle")
	cli := f.groups(5 * time.Second)
	ctx := context.Background()

	err := cli.Call(ctx, idle, groups.MethodList, groups.Params{}, nil)
	require.Equal(t, groups.CodeChannelNotActive, codeOf(t, err))
	require.Equal(t, map[string]any{"state": state.Inactive}, err.(*groups.Error).Details)

	err = cli.Call(ctx, "ch_00000000000000000000000000", groups.MethodList, groups.Params{}, nil)
	require.Equal(t, groups.CodeChannelNotFound, codeOf(t, err))

	// A request on another shard's subject is refused, not run there.
	wrong := 1 - shard.Of(active, f.shards)
	resp, err := f.bus.Conn.Request(f.bus.Names.RPC(wrong, active, groups.MethodList), nil, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, groups.CodeInvalidRequest, resp.Header.Get(names.HeaderError))
	var rep groups.Reply
	require.NoError(t, json.Unmarshal(resp.Data, &rep))
	require.Equal(t, groups.CodeInvalidRequest, rep.Error.Code)

	for _, tc := range []struct {
		name   string
		method string
		params any
		want   string
	}{
		{"an unknown method", "group.explode", groups.Params{}, groups.CodeInvalidRequest},
		{"unknown parameters", groups.MethodList, map[string]any{"colour": "red"}, groups.CodeInvalidRequest},
		{"info without a group", groups.MethodInfo, groups.Params{}, groups.CodeInvalidRequest},
		{"a group that does not exist", groups.MethodInfo, groups.Params{Group: "120363999999999999@g.us"}, groups.CodeGroupNotFound},
		{"create without a name", groups.MethodCreate, groups.Params{}, groups.CodeInvalidRequest},
		{"an unknown action", groups.MethodParticipants, groups.Params{Group: "120363999999999999@g.us", Action: "kick", Participants: []string{"15550004001"}}, groups.CodeInvalidRequest},
		{"leave without a group", groups.MethodLeave, groups.Params{}, groups.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, codeOf(t, cli.Call(ctx, active, tc.method, tc.params, nil)))
		})
	}
}

// A request reaching the mailbox after its caller gave up is not run.
func TestExpiredRequestsDoNotRun(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorker("w")
	ch := f.pairedChannel("late")
	ctx := context.Background()

	body, _ := json.Marshal(groups.Params{Name: "Too late", Participants: []string{"15550004001"}})
	msg := nats.NewMsg(f.bus.Names.RPC(shard.Of(ch, f.shards), ch, groups.MethodCreate))
	msg.Data = body
	msg.Header.Set(names.HeaderDeadline, time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano))
	_, err := f.bus.Conn.RequestMsg(msg, 500*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "no answer to a caller who left")

	var list []groups.Group
	require.NoError(t, f.groups(5*time.Second).Call(ctx, ch, groups.MethodList, groups.Params{}, &list))
	require.Empty(t, list, "the late create did not run")
	require.Zero(t, countType(f.events(ch), event.GroupCreated))
}
