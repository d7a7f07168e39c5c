package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the group capability of a simulated session (package
// groups documents the contract). The simulated WhatsApp server keeps its
// groups in Redis, shared by every worker of the fleet, so a group
// outlives the worker that created it and a channel that moves to another
// worker still finds its groups:
//
//	SimGroup(g)          hash  name, owner, created (Unix ms), topic
//	SimGroupMembers(g)   hash  participant JID → member | admin | superadmin
//	SimUserGroups(u)     set   the groups user u takes part in
//
// Participants are user JIDs (the device part dropped). Changes are
// transactions watched on the group's keys, so two accounts changing one
// group at once do not lose an update. Every change is reported as
// WhatsApp reports it to the account that made it: group.created,
// group.member_added, group.member_removed, or group.updated with the
// promoted or demoted participants. Other simulated accounts in the group
// get no event.

// maxGroupSize is WhatsApp's limit of a group's participants.
const maxGroupSize = 1024

// txAttempts bounds the retries of a group change that raced another one.
const txAttempts = 8

// ListGroups returns the groups the account takes part in, sorted by id.
func (s *Session) ListGroups(ctx context.Context) ([]groups.Group, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, fmt.Errorf("sim: list groups: %w", err)
	}
	rdb, keys := s.d.cfg.Redis, s.d.cfg.Keys
	ids, err := rdb.SMembers(ctx, keys.SimUserGroups(self)).Result()
	if err != nil {
		return nil, fmt.Errorf("sim: list groups: %w", err)
	}
	slices.Sort(ids)
	metas := make([]*redis.MapStringStringCmd, len(ids))
	members := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			metas[i] = p.HGetAll(ctx, keys.SimGroup(id))
			members[i] = p.HGetAll(ctx, keys.SimGroupMembers(id))
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sim: list groups: %w", err)
	}
	out := make([]groups.Group, 0, len(ids))
	for i, id := range ids {
		if len(metas[i].Val()) == 0 || members[i].Val()[self] == "" {
			continue // deleted, or left, between the two reads
		}
		out = append(out, groupOf(id, metas[i].Val(), members[i].Val()))
	}
	return out, nil
}

// GroupInfo returns a group the account takes part in.
func (s *Session) GroupInfo(ctx context.Context, group string) (groups.Group, error) {
	self, err := s.groupSelf()
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: group info: %w", err)
	}
	gid, err := groupJID(group)
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: group info: %w", err)
	}
	meta, members, err := s.loadGroup(ctx, s.d.cfg.Redis, gid)
	if err == nil && members[self] == "" {
		err = groups.ErrNotParticipant
	}
	if err != nil {
		return groups.Group{}, fmt.Errorf("sim: group info %s: %w", gid, err)
	}
	return groupOf(gid, meta, members), nil
}

// CreateGroup creates a group of the account (its superadmin) and
// participants (phone numbers or JIDs; the account itself is left out),
// and reports group.created.
func (s *Session) CreateGroup(ctx context.Context, name string, participants []string) (groups.Created, error) {
	self, err := s.groupSelf()
	if err != nil {
		return groups.Created{}, fmt.Errorf("sim: create group: %w", err)
	}
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > groups.MaxNameLength {
		return groups.Created{}, fmt.Errorf("sim: create group: %w: the name must have 1 to %d characters", session.ErrInvalid, groups.MaxNameLength)
	}
	jids, err := participantJIDs(participants)
	if err != nil {
		return groups.Created{}, fmt.Errorf("sim: create group: %w", err)
	}
	jids = slices.DeleteFunc(jids, func(j string) bool { return j == self })
	if len(jids)+1 > maxGroupSize {
		return groups.Created{}, fmt.Errorf("sim: create group: %w: a group has at most %d participants", session.ErrInvalid, maxGroupSize)
	}
	now := s.d.cfg.Now().UTC()
	gid := fmt.Sprintf("120363%012d@g.us", randomInt(1e12))
	meta := map[string]string{"name": name, "owner": self, "created": strconv.FormatInt(now.UnixMilli(), 10)}
	members := map[string]string{self: groups.RoleSuperAdmin}
	for _, j := range jids {
		members[j] = groups.RoleMember
	}
	rdb, keys := s.d.cfg.Redis, s.d.cfg.Keys
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keys.SimGroup(gid), meta)
		p.HSet(ctx, keys.SimGroupMembers(gid), members)
		for j := range members {
			p.SAdd(ctx, keys.SimUserGroups(j), gid)
		}
		return nil
	}); err != nil {
		return groups.Created{}, fmt.Errorf("sim: create group: %w", err)
	}
	g := groupOf(gid, meta, members)
	d := session.GroupData{Group: gid, Name: name, By: self, Timestamp: now, Reason: "created", Owner: self}
	for _, p := range g.Participants {
		d.Participants = append(d.Participants, p.JID)
		if p.Role != groups.RoleMember {
			d.Admins = append(d.Admins, p.JID)
		}
	}
	s.emitGroupEvent(event.GroupCreated, d)
	return groups.Created{Group: g}, nil
}

// UpdateParticipants adds, removes, promotes or demotes participants of a
// group the account administers, each on its own: the result tells, in
// the order given, which changes were made and why the others were not
// (409 already a participant, 404 not a participant, 403 the creator
// cannot be removed or demoted, 500 the group is full). The changes made
// are reported: group.member_added, group.member_removed, or
// group.updated with promoted or demoted.
func (s *Session) UpdateParticipants(ctx context.Context, group, action string, participants []string) ([]groups.ParticipantResult, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, fmt.Errorf("sim: %s participants: %w", action, err)
	}
	if !slices.Contains(groups.Actions, action) {
		return nil, fmt.Errorf("sim: participants: %w: action %q is not one of %s", session.ErrInvalid, action, strings.Join(groups.Actions, ", "))
	}
	gid, err := groupJID(group)
	if err != nil {
		return nil, fmt.Errorf("sim: %s participants: %w", action, err)
	}
	jids, err := participantJIDs(participants)
	if err == nil && len(jids) == 0 {
		err = fmt.Errorf("%w: no participants", session.ErrInvalid)
	}
	if err == nil && slices.Contains(jids, self) {
		err = fmt.Errorf("%w: the account itself cannot be changed (leave the group instead)", session.ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("sim: %s participants: %w", action, err)
	}
	var results []groups.ParticipantResult
	err = s.changeGroup(ctx, gid, func(members map[string]string) (map[string]string, error) {
		if members[self] == groups.RoleMember {
			return nil, groups.ErrNotAdmin
		}
		results = results[:0]
		changes := map[string]string{}
		size := len(members)
		for _, j := range jids {
			role, code := members[j], 0
			switch {
			case action == groups.ActionAdd && role != "":
				code = 409
			case action == groups.ActionAdd && size >= maxGroupSize:
				code = 500
			case action != groups.ActionAdd && role == "":
				code = 404
			case role == groups.RoleSuperAdmin && (action == groups.ActionRemove || action == groups.ActionDemote):
				code = 403
			}
			if code != 0 {
				results = append(results, groups.ParticipantResult{JID: j, Status: groups.StatusFailed, Code: code, Reason: groups.FailureReason(code, false)})
				continue
			}
			results = append(results, groups.ParticipantResult{JID: j, Status: groups.StatusOK})
			switch action {
			case groups.ActionAdd:
				changes[j] = groups.RoleMember
				size++
			case groups.ActionRemove:
				changes[j] = ""
			case groups.ActionPromote:
				if role == groups.RoleMember {
					changes[j] = groups.RoleAdmin
				}
			case groups.ActionDemote:
				changes[j] = groups.RoleMember
			}
		}
		return changes, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sim: %s participants of %s: %w", action, gid, err)
	}
	var done []string
	for _, r := range results {
		if r.Status == groups.StatusOK {
			done = append(done, r.JID)
		}
	}
	if len(done) > 0 {
		d := session.GroupData{Group: gid, By: self, Timestamp: s.d.cfg.Now().UTC()}
		typ := event.GroupUpdated
		switch action {
		case groups.ActionAdd:
			typ, d.Participants = event.GroupMemberAdded, done
		case groups.ActionRemove:
			typ, d.Participants = event.GroupMemberRemoved, done
		case groups.ActionPromote:
			d.Promoted = done
		case groups.ActionDemote:
			d.Demoted = done
		}
		s.emitGroupEvent(typ, d)
	}
	return results, nil
}

// LeaveGroup takes the account out of a group and reports
// group.member_removed. The last participant to leave deletes the group;
// when the last admin leaves, the first remaining participant becomes one,
// as WhatsApp does.
func (s *Session) LeaveGroup(ctx context.Context, group string) error {
	self, err := s.groupSelf()
	if err != nil {
		return fmt.Errorf("sim: leave group: %w", err)
	}
	gid, err := groupJID(group)
	if err != nil {
		return fmt.Errorf("sim: leave group: %w", err)
	}
	err = s.changeGroup(ctx, gid, func(members map[string]string) (map[string]string, error) {
		changes := map[string]string{self: ""}
		var rest []string
		admin := false
		for j, role := range members {
			if j != self {
				rest = append(rest, j)
				admin = admin || role != groups.RoleMember
			}
		}
		if len(rest) > 0 && !admin {
			slices.Sort(rest)
			changes[rest[0]] = groups.RoleAdmin
		}
		return changes, nil
	})
	if err != nil {
		return fmt.Errorf("sim: leave group %s: %w", gid, err)
	}
	s.emitGroupEvent(event.GroupMemberRemoved, session.GroupData{
		Group: gid, Participants: []string{self}, By: self, Timestamp: s.d.cfg.Now().UTC()})
	return nil
}

// changeGroup applies the participant changes change computes from the
// group's members (JID → new role, "" to remove) in a transaction that
// fails and is retried when the group changed meanwhile. The account must
// take part in the group. A group left without participants is deleted.
func (s *Session) changeGroup(ctx context.Context, gid string, change func(members map[string]string) (map[string]string, error)) error {
	self, err := s.groupSelf()
	if err != nil {
		return err
	}
	rdb, keys := s.d.cfg.Redis, s.d.cfg.Keys
	metaKey, membersKey := keys.SimGroup(gid), keys.SimGroupMembers(gid)
	for range txAttempts {
		err = rdb.Watch(ctx, func(tx *redis.Tx) error {
			_, members, err := s.loadGroup(ctx, tx, gid)
			if err != nil {
				return err
			}
			if members[self] == "" {
				return groups.ErrNotParticipant
			}
			changes, err := change(members)
			if err != nil {
				return err
			}
			left := len(members)
			for j, role := range changes {
				switch {
				case role == "" && members[j] != "":
					left--
				case role != "" && members[j] == "":
					left++
				}
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for j, role := range changes {
					if role == "" {
						p.HDel(ctx, membersKey, j)
						p.SRem(ctx, keys.SimUserGroups(j), gid)
					} else {
						p.HSet(ctx, membersKey, j, role)
						p.SAdd(ctx, keys.SimUserGroups(j), gid)
					}
				}
				if left == 0 {
					p.Del(ctx, metaKey, membersKey)
				}
				return nil
			})
			return err
		}, metaKey, membersKey)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("the group kept changing during %d attempts: %w", txAttempts, err)
}

// loadGroup reads a group's metadata and members; ErrGroupNotFound when
// it does not exist.
func (s *Session) loadGroup(ctx context.Context, rdb redis.Cmdable, gid string) (meta, members map[string]string, err error) {
	keys := s.d.cfg.Keys
	if meta, err = rdb.HGetAll(ctx, keys.SimGroup(gid)).Result(); err != nil {
		return nil, nil, err
	}
	if len(meta) == 0 {
		return nil, nil, groups.ErrGroupNotFound
	}
	if members, err = rdb.HGetAll(ctx, keys.SimGroupMembers(gid)).Result(); err != nil {
		return nil, nil, err
	}
	return meta, members, nil
}

// groupSelf returns the account's user JID when the session is connected.
func (s *Session) groupSelf() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != connected {
		return "", session.ErrNotConnected
	}
	return userOf(s.jid), nil
}

// emitGroupEvent reports a change made. A connection lost since then
// loses the event, as it would with WhatsApp until the next connection.
func (s *Session) emitGroupEvent(typ string, d session.GroupData) {
	_ = s.emitConnected(inbound(typ, d.Timestamp, d))
}

func groupOf(gid string, meta, members map[string]string) groups.Group {
	g := groups.Group{ID: gid, Name: meta["name"], Topic: meta["topic"], Owner: meta["owner"],
		Announce: meta["announce"] == "1", Locked: meta["locked"] == "1"}
	if ms, err := strconv.ParseInt(meta["created"], 10, 64); err == nil {
		t := time.UnixMilli(ms).UTC()
		g.CreatedAt = &t
	}
	for j, role := range members {
		g.Participants = append(g.Participants, groups.Participant{JID: j, Role: role})
	}
	slices.SortFunc(g.Participants, func(a, b groups.Participant) int { return strings.Compare(a.JID, b.JID) })
	return g
}

// userOf drops the device part of a JID: 15551234567:7@s.whatsapp.net →
// 15551234567@s.whatsapp.net.
func userOf(jid string) string {
	user, server, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":")
	return user + "@" + server
}

// groupJID checks a group's JID.
func groupJID(v string) (string, error) {
	user, ok := strings.CutSuffix(strings.TrimSpace(v), "@g.us")
	if !ok || user == "" || strings.Trim(user, "0123456789-") != "" {
		return "", fmt.Errorf("%w: %q is not a group JID (…@g.us)", session.ErrInvalid, v)
	}
	return user + "@g.us", nil
}

// participantJIDs normalises participants (phone numbers, user JIDs or
// LIDs) to user JIDs, without duplicates, in the order given.
func participantJIDs(vs []string) ([]string, error) {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		j, err := toJID(v)
		if err != nil {
			return nil, err
		}
		j = userOf(j)
		user, server, _ := strings.Cut(j, "@")
		if (server != UserServer && server != "lid") || user == "" || strings.Trim(user, "0123456789") != "" {
			return nil, fmt.Errorf("%w: participant %q is not a phone number, user JID or LID", session.ErrInvalid, v)
		}
		if !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out, nil
}
