package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/groups"
)

// A group created with an Idempotency-Key is remembered by the channel's
// owner for groupKeyTTL: a retry (after a 504 channel_timeout, a lost
// answer, a client crash) gets the group the first request created
// instead of a second group. The owner runs a channel's requests one at a
// time in its mailbox, so a retry waits for the first to finish; the
// record lives in Redis, so it survives the shard moving to another worker.
const groupKeyTTL = 24 * time.Hour

// replayed is a stored result: answer sends it as is, marked replayed.
type replayed json.RawMessage

type groupKeyRecord struct {
	Hash   string          `json:"hash"`
	Result json.RawMessage `json:"result"`
}

func createHash(p groups.Params) string {
	h := sha256.Sum256([]byte(p.Name + "\x00" + strings.Join(p.Participants, "\x00")))
	return hex.EncodeToString(h[:])
}

// createGroupOnce runs create unless p.Key already created a group.
func (c *channelRun) createGroupOnce(ctx context.Context, p groups.Params, create func() (groups.Created, error)) (any, error) {
	if p.Key == "" {
		return create()
	}
	rdb, key, hash := c.sr.w.cfg.Redis, c.sr.w.cfg.Keys.GroupCreateKey(c.id, p.Key), createHash(p)
	raw, err := rdb.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return nil, groups.Errorf(groups.CodeChannelUnavailable, "cannot check the Idempotency-Key: %v", err)
	default:
		var rec groupKeyRecord
		if json.Unmarshal(raw, &rec) == nil {
			if rec.Hash != hash {
				return nil, groups.Errorf(groups.CodeKeyReused, "Idempotency-Key was used for a different group creation; use a new key for a new group")
			}
			return replayed(rec.Result), nil
		}
	}
	created, err := create()
	if err != nil {
		return nil, err
	}
	result, _ := json.Marshal(created)
	rec, _ := json.Marshal(groupKeyRecord{Hash: hash, Result: result})
	// The caller may have given up (its deadline is this ctx's): the
	// record is what its retry will find.
	if err := rdb.Set(context.WithoutCancel(ctx), key, rec, groupKeyTTL).Err(); err != nil {
		c.log.Warn("group created but its Idempotency-Key not stored; a retry would create another", "err", err)
	}
	return created, nil
}
