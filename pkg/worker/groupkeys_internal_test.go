package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
)

// The created group is stored even when the caller's deadline passed
// during the creation (the API answered 504): the retry finds it, and
// WhatsApp is not asked twice.
func TestGroupKeyOutlivesTheCallersDeadline(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	c := &channelRun{id: "ch_groupkeys", log: slog.Default(), sr: &shardRun{w: &Worker{cfg: Config{Redis: rdb, Keys: names.NewRedis(prefix)}}}}
	p := groups.Params{Name: "Orders", Participants: []string{"15550006001@s.whatsapp.net"}, Key: "k1"}
	calls := 0
	create := func() (groups.Created, error) {
		calls++
		return groups.Created{Group: groups.Group{ID: "120363000000000001@g.us", Name: "Orders"}}, nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	res, err := c.createGroupOnce(ctx, p, func() (groups.Created, error) {
		cancel() // the caller gives up while WhatsApp creates the group
		return create()
	})
	require.NoError(t, err)
	require.IsType(t, groups.Created{}, res)

	res, err = c.createGroupOnce(context.Background(), p, create)
	require.NoError(t, err)
	require.IsType(t, replayed(nil), res, "the retry is answered from the record")
	var got groups.Created
	require.NoError(t, json.Unmarshal(res.(replayed), &got))
	require.Equal(t, "120363000000000001@g.us", got.ID)
	require.Equal(t, 1, calls, "WhatsApp was asked once")

	p.Name = "Other"
	_, err = c.createGroupOnce(context.Background(), p, create)
	var e *groups.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, groups.CodeKeyReused, e.Code)
	require.Equal(t, 1, calls)
}
