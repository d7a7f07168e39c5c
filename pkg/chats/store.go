package chats

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/pkg/store"
)

// ErrNotFound: the channel has no such chat.
var ErrNotFound = errors.New("chats: no such chat")

// ErrBadCursor: a page cursor this package did not make.
var ErrBadCursor = errors.New("chats: malformed cursor")

// Filter narrows List; zero values mean no filter.
type Filter struct {
	// Archived, when set, lists only archived (or only other) chats.
	Archived *bool
	// After is the cursor of the previous page (Page.Next).
	After string
	// Limit is the page size (default 50, at most 500).
	Limit int
}

// Page is one page of chats, most recent first; Next is the cursor of the
// next page, "" on the last.
type Page struct {
	Chats []Chat
	Next  string
}

const chatCols = `chat, chat_lid, name, last_message_id, last_at, unread_count, archived, pinned, muted_until`

type row struct {
	Chat
	lastID string
}

func scanChat(r pgx.Row) (row, error) {
	var c row
	err := r.Scan(&c.Chat.Chat, &c.ChatLID, &c.Name, &c.lastID, &c.LastAt, &c.UnreadCount, &c.Archived, &c.Pinned, &c.MutedUntil)
	c.IsGroup = strings.HasSuffix(c.Chat.Chat, "@g.us")
	return c, err
}

// List returns a page of a channel's chats, the most recent first.
func List(ctx context.Context, st *store.Store, channelID string, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var afterAt *time.Time
	afterChat := ""
	if f.After != "" {
		t, c, err := decodeCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		afterAt, afterChat = &t, c
	}
	rows, err := st.Pool.Query(ctx, `SELECT `+chatCols+` FROM chats
		WHERE channel_id = $1 AND ($2::boolean IS NULL OR archived = $2)
		  AND ($3::timestamptz IS NULL OR last_at < $3 OR (last_at = $3 AND chat > $4::text))
		ORDER BY last_at DESC, chat LIMIT $5`, channelID, f.Archived, afterAt, afterChat, f.Limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("chats: list: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) { return scanChat(r) })
	if err != nil {
		return Page{}, fmt.Errorf("chats: list: %w", err)
	}
	var p Page
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		p.Next = encodeCursor(last.LastAt, last.Chat.Chat)
	}
	p.Chats, err = withLastMessages(ctx, st, channelID, list)
	return p, err
}

// Get returns one chat, named by its key or its LID.
func Get(ctx context.Context, st *store.Store, channelID, chat string) (Chat, error) {
	r, err := scanChat(st.Pool.QueryRow(ctx, `SELECT `+chatCols+` FROM chats
		WHERE channel_id = $1 AND (chat = $2 OR chat_lid = $2) ORDER BY chat = $2 DESC LIMIT 1`, channelID, chat))
	if errors.Is(err, pgx.ErrNoRows) {
		return Chat{}, ErrNotFound
	}
	if err != nil {
		return Chat{}, fmt.Errorf("chats: read %s: %w", chat, err)
	}
	list, err := withLastMessages(ctx, st, channelID, []row{r})
	if err != nil {
		return Chat{}, err
	}
	return list[0], nil
}

func withLastMessages(ctx context.Context, st *store.Store, channelID string, list []row) ([]Chat, error) {
	ids := make([]string, 0, len(list))
	for _, r := range list {
		if r.lastID != "" {
			ids = append(ids, r.lastID)
		}
	}
	msgs, err := st.MessagesByID(ctx, channelID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Chat, len(list))
	for i, r := range list {
		out[i] = r.Chat
		out[i].LastMessage = msgs[r.lastID]
	}
	return out, nil
}

// Refs are what an Update needs from the message log: the chat's last
// message and the received messages not yet read (the newest unread
// count of them, at most 100).
func Refs(ctx context.Context, st *store.Store, channelID string, c Chat) (last *MessageRef, unread []MessageRef, err error) {
	if c.LastMessage != nil && c.LastMessage.WAID != "" {
		m := c.LastMessage
		last = &MessageRef{ID: m.WAID, FromMe: m.Direction == "outbound", Sender: m.Sender, At: m.CreatedAt}
		if m.SentAt != nil {
			last.At = *m.SentAt
		}
	}
	n := min(c.UnreadCount, 100)
	if n == 0 {
		return last, nil, nil
	}
	msgs, err := st.ListMessages(ctx, channelID, store.MessageFilter{Chat: c.Chat, Direction: "inbound", Limit: n})
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		if m.WAID != "" {
			unread = append(unread, MessageRef{ID: m.WAID, Sender: m.Sender, At: m.CreatedAt})
		}
	}
	return last, unread, nil
}

// Record applies a change to the chat it names (creating the chat when
// the channel has none by that name) in tx, and returns what changed:
// nil when nothing did, or when the change is a full sync's.
func Record(ctx context.Context, tx pgx.Tx, channelID string, c Change) (*Updated, error) {
	if c.Timestamp.IsZero() {
		c.Timestamp = time.Now().UTC()
	}
	var (
		key, lid         string
		archived, pinned bool
		muted            *time.Time
		unread           int
	)
	err := tx.QueryRow(ctx, `SELECT chat, chat_lid, archived, pinned, muted_until, unread_count FROM chats
		WHERE channel_id = $1 AND (chat = $2 OR chat_lid = $2 OR ($3 <> '' AND (chat = $3 OR chat_lid = $3)))
		ORDER BY chat = $2 DESC LIMIT 1 FOR UPDATE`, channelID, c.Chat, c.ChatLID).
		Scan(&key, &lid, &archived, &pinned, &muted, &unread)
	if errors.Is(err, pgx.ErrNoRows) {
		key, lid = c.Chat, c.ChatLID
		if _, err := tx.Exec(ctx, `INSERT INTO chats (channel_id, chat, chat_lid, name, last_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel_id, chat) DO NOTHING`, channelID, key, lid, c.Name, c.Timestamp); err != nil {
			return nil, fmt.Errorf("chats: record a change of %s: %w", c.Chat, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("chats: record a change of %s: %w", c.Chat, err)
	}
	u := Updated{Chat: key, ChatLID: lid, Archived: archived, Pinned: pinned, MutedUntil: muted, UnreadCount: unread, Timestamp: c.Timestamp}
	if u.ChatLID == "" && c.ChatLID != "" {
		u.ChatLID = c.ChatLID
	}
	if c.Archived != nil && *c.Archived != u.Archived {
		u.Archived = *c.Archived
		u.Changed = append(u.Changed, "archived")
	}
	if c.Pinned != nil && *c.Pinned != u.Pinned {
		u.Pinned = *c.Pinned
		u.Changed = append(u.Changed, "pinned")
	}
	if c.Muted != nil {
		var until *time.Time
		if *c.Muted {
			t := Forever
			if c.MutedUntil != nil && c.MutedUntil.Before(Forever) {
				t = c.MutedUntil.UTC().Truncate(time.Microsecond)
			}
			until = &t
		}
		if !sameTime(until, u.MutedUntil) {
			u.MutedUntil = until
			u.Changed = append(u.Changed, "muted_until")
		}
	}
	count := u.UnreadCount
	switch {
	case c.UnreadCount != nil:
		count = max(*c.UnreadCount, 0)
	case c.Read != nil && *c.Read:
		count = 0
	case c.Read != nil:
		count = max(count, 1)
	}
	if count != u.UnreadCount {
		u.UnreadCount = count
		u.Changed = append(u.Changed, "read")
	}
	if len(u.Changed) == 0 && u.ChatLID == lid && c.Name == "" {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE chats SET chat_lid = $3, archived = $4, pinned = $5, muted_until = $6, unread_count = $7,
		name = CASE WHEN $8 <> '' THEN $8 ELSE name END, updated_at = now()
		WHERE channel_id = $1 AND chat = $2`, channelID, key, u.ChatLID, u.Archived, u.Pinned, u.MutedUntil, u.UnreadCount, c.Name); err != nil {
		return nil, fmt.Errorf("chats: record a change of %s: %w", c.Chat, err)
	}
	if len(u.Changed) == 0 || c.FullSync {
		return nil, nil
	}
	slices.Sort(u.Changed)
	return &u, nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func encodeCursor(at time.Time, chat string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + chat))
}

func decodeCursor(s string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", ErrBadCursor
	}
	ts, chat, ok := strings.Cut(string(raw), "|")
	t, terr := time.Parse(time.RFC3339Nano, ts)
	if !ok || terr != nil || chat == "" {
		return time.Time{}, "", ErrBadCursor
	}
	return t, chat, nil
}
