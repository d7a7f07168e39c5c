package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the rest of the group capability of a simulated session
// (groups.Inviter, groups.Editor): invite links, joining by them, settings
// and the picture, with WhatsApp's rules:
//
//   - Only admins read or reset a group's invite link. A group gets its
//     code on the first read; a reset replaces it, and the old code is
//     revoked for good (SimGroupInvites remembers every code issued, the
//     group's "invite" field the live one).
//   - Announce and locked need an admin; name, description and picture
//     need one only in a locked group. A change that needs an admin is
//     refused whole, before anything changes.
//   - Settings that already have the value asked for are left alone and
//     reported by no event.
//
// Each change is reported as whatsmeow reports WhatsApp's notification of
// it to the account that made it: group.updated with name, topic (or
// topic_deleted), announce, locked, invite_link, picture_id or
// picture_removed — one event per setting, in that order — and
// group.member_added with reason "invite" for a join.

var (
	_ groups.Inviter = (*Session)(nil)
	_ groups.Editor  = (*Session)(nil)
)

// InviteLink implements groups.Inviter.
func (s *Session) InviteLink(ctx context.Context, group string, reset bool) (groups.Invite, error) {
	self, err := s.groupSelf()
	if err != nil {
		return groups.Invite{}, fmt.Errorf("sim: invite link: %w", err)
	}
	gid, err := groupJID(group)
	if err != nil {
		return groups.Invite{}, fmt.Errorf("sim: invite link: %w", err)
	}
	var code string
	err = s.groupTx(ctx, gid, func(meta, members map[string]string) (func(redis.Pipeliner), error) {
		if members[self] == "" {
			return nil, groups.ErrNotParticipant
		}
		if members[self] == groups.RoleMember {
			// WhatsApp answers 401, whatsmeow ErrGroupInviteLinkUnauthorized.
			return nil, groups.ErrNotAdmin
		}
		code = meta["invite"]
		if code != "" && !reset {
			return nil, nil
		}
		code = inviteCode()
		return func(p redis.Pipeliner) {
			p.HSet(ctx, s.d.cfg.Keys.SimGroup(gid), "invite", code)
			p.HSet(ctx, s.d.cfg.Keys.SimGroupInvites(), code, gid)
		}, nil
	})
	if err != nil {
		return groups.Invite{}, fmt.Errorf("sim: invite link of %s: %w", gid, err)
	}
	inv := groups.InviteOf(gid, code)
	if reset {
		d := s.groupChange(gid, self)
		d.InviteLink = inv.Invite
		s.emitGroupEvent(event.GroupUpdated, d)
	}
	return inv, nil
}

// JoinGroup implements groups.Inviter: the account joins the group of a
// live code as a member; joining a group it is in already changes nothing.
func (s *Session) JoinGroup(ctx context.Context, code string) (groups.Joined, error) {
	self, err := s.groupSelf()
	if err != nil {
		return groups.Joined{}, fmt.Errorf("sim: join group: %w", err)
	}
	code, ok := groups.ParseInvite(code)
	if !ok {
		return groups.Joined{}, fmt.Errorf("sim: join group: %w: not an invite code", groups.ErrInviteInvalid)
	}
	gid, err := s.d.cfg.Redis.HGet(ctx, s.d.cfg.Keys.SimGroupInvites(), code).Result()
	if errors.Is(err, redis.Nil) {
		return groups.Joined{}, fmt.Errorf("sim: join group: %w", groups.ErrInviteInvalid)
	}
	if err != nil {
		return groups.Joined{}, fmt.Errorf("sim: join group: %w", err)
	}
	var (
		g      groups.Group
		joined bool
	)
	err = s.groupTx(ctx, gid, func(meta, members map[string]string) (func(redis.Pipeliner), error) {
		if meta["invite"] != code {
			return nil, groups.ErrInviteRevoked
		}
		if members[self] != "" {
			g = groupOf(gid, meta, members)
			return nil, nil
		}
		if len(members) >= maxGroupSize {
			return nil, fmt.Errorf("%w: the group is full", groups.ErrJoinRefused)
		}
		members[self] = groups.RoleMember
		g, joined = groupOf(gid, meta, members), true
		return func(p redis.Pipeliner) {
			p.HSet(ctx, s.d.cfg.Keys.SimGroupMembers(gid), self, groups.RoleMember)
			p.SAdd(ctx, s.d.cfg.Keys.SimUserGroups(self), gid)
		}, nil
	})
	if errors.Is(err, groups.ErrGroupNotFound) {
		err = fmt.Errorf("%w: the group is gone", groups.ErrInviteInvalid)
	}
	if err != nil {
		return groups.Joined{}, fmt.Errorf("sim: join group: %w", err)
	}
	if joined {
		// WhatsApp names no author of a join by link.
		d := s.groupChange(gid, "")
		d.Participants, d.Reason = []string{self}, "invite"
		s.emitGroupEvent(event.GroupMemberAdded, d)
	}
	return groups.Joined{Group: g, Status: groups.JoinJoined}, nil
}

// UpdateGroup implements groups.Editor.
func (s *Session) UpdateGroup(ctx context.Context, group string, u groups.Update) (groups.Group, error) {
	self, err := s.groupSelf()
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: update group: %w", err)
	}
	gid, err := groupJID(group)
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: update group: %w", err)
	}
	if e := u.Check(); e != nil {
		return groups.Group{}, fmt.Errorf("sim: update group: %w: %s", session.ErrInvalid, e.Message)
	}
	var (
		g       groups.Group
		changes []session.GroupData
	)
	err = s.groupTx(ctx, gid, func(meta, members map[string]string) (func(redis.Pipeliner), error) {
		if members[self] == "" {
			return nil, groups.ErrNotParticipant
		}
		u := u.Against(groupOf(gid, meta, members))
		if members[self] == groups.RoleMember && u.NeedsAdmin(meta["locked"] == "1") {
			return nil, groups.ErrNotAdmin
		}
		set := map[string]string{}
		changes = changes[:0]
		if u.Name != nil {
			set["name"] = strings.TrimSpace(*u.Name)
			d := s.groupChange(gid, self)
			d.Name = set["name"]
			changes = append(changes, d)
		}
		if u.Description != nil {
			set["topic"] = *u.Description
			d := s.groupChange(gid, self)
			d.Topic, d.TopicDeleted = *u.Description, *u.Description == ""
			changes = append(changes, d)
		}
		if u.Announce != nil {
			set["announce"] = flag(*u.Announce)
			d := s.groupChange(gid, self)
			d.Announce = u.Announce
			changes = append(changes, d)
		}
		if u.Locked != nil {
			set["locked"] = flag(*u.Locked)
			d := s.groupChange(gid, self)
			d.Locked = u.Locked
			changes = append(changes, d)
		}
		for k, v := range set {
			meta[k] = v
		}
		g = groupOf(gid, meta, members)
		if len(set) == 0 {
			return nil, nil
		}
		return func(p redis.Pipeliner) { p.HSet(ctx, s.d.cfg.Keys.SimGroup(gid), set) }, nil
	})
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: update group %s: %w", gid, err)
	}
	for _, d := range changes {
		s.emitGroupEvent(event.GroupUpdated, d)
	}
	return g, nil
}

// SetGroupPicture implements groups.Editor. Like WhatsApp, the simulated
// server refuses anything but a JPEG.
func (s *Session) SetGroupPicture(ctx context.Context, group string, jpeg []byte) (string, error) {
	self, err := s.groupSelf()
	if err != nil {
		return "", fmt.Errorf("sim: group picture: %w", err)
	}
	gid, err := groupJID(group)
	if err != nil {
		return "", fmt.Errorf("sim: group picture: %w", err)
	}
	if jpeg != nil && !bytes.HasPrefix(jpeg, []byte{0xFF, 0xD8, 0xFF}) {
		return "", fmt.Errorf("sim: group picture: %w: not a JPEG", groups.ErrInvalidImage)
	}
	var id string
	changed := false
	err = s.groupTx(ctx, gid, func(meta, members map[string]string) (func(redis.Pipeliner), error) {
		if members[self] == "" {
			return nil, groups.ErrNotParticipant
		}
		if members[self] == groups.RoleMember && meta["locked"] == "1" {
			return nil, groups.ErrNotAdmin
		}
		key := s.d.cfg.Keys.SimGroup(gid)
		if jpeg == nil {
			id, changed = "", meta["picture"] != ""
			return func(p redis.Pipeliner) { p.HDel(ctx, key, "picture") }, nil
		}
		id, changed = strconv.FormatInt(s.d.cfg.Now().Unix(), 10)+strconv.FormatInt(randomInt(1000), 10), true
		return func(p redis.Pipeliner) { p.HSet(ctx, key, "picture", id) }, nil
	})
	if err != nil {
		return "", fmt.Errorf("sim: group picture of %s: %w", gid, err)
	}
	if changed {
		d := s.groupChange(gid, self)
		d.PictureID, d.PictureRemoved = id, jpeg == nil
		s.emitGroupEvent(event.GroupUpdated, d)
	}
	return id, nil
}

// groupTx runs change on the group's metadata and members and then what
// it returns (nil: nothing to write) in a transaction, retried when the
// group changed meanwhile. ErrGroupNotFound when the group does not exist.
func (s *Session) groupTx(ctx context.Context, gid string, change func(meta, members map[string]string) (func(redis.Pipeliner), error)) error {
	rdb, keys := s.d.cfg.Redis, s.d.cfg.Keys
	var err error
	for range txAttempts {
		err = rdb.Watch(ctx, func(tx *redis.Tx) error {
			meta, members, err := s.loadGroup(ctx, tx, gid)
			if err != nil {
				return err
			}
			write, err := change(meta, members)
			if err != nil || write == nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				write(p)
				return nil
			})
			return err
		}, keys.SimGroup(gid), keys.SimGroupMembers(gid))
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("the group kept changing during %d attempts: %w", txAttempts, err)
}

// groupChange is the data of a change of gid by (empty: not named).
func (s *Session) groupChange(gid, by string) session.GroupData {
	return session.GroupData{Group: gid, By: by, Timestamp: s.d.cfg.Now().UTC()}
}

// inviteCode returns a new invite code: 22 letters and digits, as
// WhatsApp's.
func inviteCode() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[randomInt(int64(len(alphabet)))]
	}
	return string(b)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}
