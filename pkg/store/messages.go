package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wagate/wagate/pkg/ids"
)

// Message statuses and their order; status only moves to a higher rank.
const (
	StatusQueued    = "queued"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
	StatusReceived  = "received"
)

// StatusFailedAfterSent is the status argument of the Advance methods for
// a failure WhatsApp reports about a message it had accepted (a
// server-error receipt): the message becomes failed when it is queued,
// sending or sent, but not once delivered, read or played (a recipient
// has it; the error concerned another device). A delivered or read
// receipt after it moves the message on as usual.
const StatusFailedAfterSent = "failed_after_sent"

// StatusRank orders statuses: a change to a lower or equal rank is ignored.
// failed ranks above sending only, so a failure never undoes a send.
var StatusRank = map[string]int{
	StatusQueued: 0, StatusSending: 1, StatusFailed: 2, StatusSent: 3,
	StatusDelivered: 4, StatusRead: 5, StatusPlayed: 6, StatusReceived: 0,
}

// ErrIdempotencyMismatch: the key was used before with another request.
var ErrIdempotencyMismatch = errors.New("store: idempotency key reused with a different request")

// Message is one row of the message log.
type Message struct {
	ID             string `json:"id"`
	ChannelID      string `json:"channel_id"`
	Direction      string `json:"direction"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	RequestHash    []byte `json:"-"`
	Chat           string `json:"chat"`
	Sender         string `json:"from,omitempty"`
	// ChatLID and SenderLID are the LIDs (…@lid) of the chat and of the
	// sender when WhatsApp addressed them so; Chat and Sender are then the
	// phone-number JIDs when known.
	ChatLID   string          `json:"chat_lid,omitempty"`
	SenderLID string          `json:"from_lid,omitempty"`
	Type      string          `json:"type"`
	Body      json.RawMessage `json:"body"`
	Status    string          `json:"status"`
	Reason    string          `json:"reason,omitempty"`
	// Code is the stable code of a failure (Failure.Code); empty
	// otherwise.
	Code        string     `json:"code,omitempty"`
	WAID        string     `json:"wa_id,omitempty"`
	SendEpoch   int64      `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	ReadAt      *time.Time `json:"read_at,omitempty"`
	// Media, when set, is written with the message (RecordInbound,
	// EnqueueMessage); MessageID and ChannelID are taken from the message.
	Media *Media `json:"-"`
}

const messageCols = `id, channel_id, direction, coalesce(idempotency_key, ''), request_hash, chat, sender, type, body,
	status, reason, code, coalesce(wa_id, ''), coalesce(send_epoch, 0), created_at, updated_at, sent_at, delivered_at, read_at, chat_lid, sender_lid`

// qualifiedMessageCols are messageCols of the table aliased m.
const qualifiedMessageCols = `m.id, m.channel_id, m.direction, coalesce(m.idempotency_key, ''), m.request_hash, m.chat, m.sender, m.type, m.body,
	m.status, m.reason, m.code, coalesce(m.wa_id, ''), coalesce(m.send_epoch, 0), m.created_at, m.updated_at, m.sent_at, m.delivered_at, m.read_at, m.chat_lid, m.sender_lid`

func scanMessage(row pgx.Row) (*Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.ChannelID, &m.Direction, &m.IdempotencyKey, &m.RequestHash, &m.Chat, &m.Sender, &m.Type,
		&m.Body, &m.Status, &m.Reason, &m.Code, &m.WAID, &m.SendEpoch, &m.CreatedAt, &m.UpdatedAt, &m.SentAt, &m.DeliveredAt, &m.ReadAt, &m.ChatLID, &m.SenderLID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &m, err
}

// EnqueueMessage stores an outbound message as queued. With an idempotency
// key already used for the channel it returns the original message and
// created=false, or ErrIdempotencyMismatch when the request differs.
func (s *Store) EnqueueMessage(ctx context.Context, m *Message) (stored *Message, created bool, err error) {
	var key any
	if m.IdempotencyKey != "" {
		key = m.IdempotencyKey
	}
	file := newOutboundFiles(1)
	file.add(0, m)
	row := s.Pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO messages (id, channel_id, direction, idempotency_key, request_hash, chat, type, body, status, status_rank, wa_id)
			VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7, 'queued', 0, nullif($15, ''))
			ON CONFLICT (channel_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING *),
		files AS (`+insertOutboundFiles+`)
		SELECT `+messageCols+` FROM ins`, m.ID, m.ChannelID, key, m.RequestHash, m.Chat, m.Type, m.Body,
		file.id, file.kind, file.mime, file.name, file.key, file.sha, file.size, m.WAID)
	stored, err = scanMessage(row)
	if err == nil {
		return stored, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return nil, false, ErrNotFound // the channel is gone
		}
		return nil, false, fmt.Errorf("store: enqueue message: %w", err)
	}
	stored, err = scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages
		WHERE channel_id = $1 AND idempotency_key = $2`, m.ChannelID, m.IdempotencyKey))
	if err != nil {
		return nil, false, fmt.Errorf("store: read idempotent message: %w", err)
	}
	if m.RequestHash != nil && string(stored.RequestHash) != string(m.RequestHash) {
		return stored, false, ErrIdempotencyMismatch
	}
	return stored, false, nil
}

// Message returns one message of a channel.
func (s *Store) Message(ctx context.Context, channelID, id string) (*Message, error) {
	return scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel_id = $1 AND id = $2`, channelID, id))
}

// HasQueued reports whether a channel has messages not yet sent: one
// probe of the queue index, cheaper than a claim that finds nothing.
func (s *Store) HasQueued(ctx context.Context, channelID string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE channel_id = $1 AND status IN ('queued', 'sending'))`, channelID).Scan(&ok)
	return ok, err
}

// QueueDepth counts a channel's messages not yet sent.
func (s *Store) QueueDepth(ctx context.Context, channelID string) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE channel_id = $1 AND status IN ('queued', 'sending')`, channelID).Scan(&n)
	return n, err
}

// Claimed is a message claimed for sending, with its status before the
// claim: sending means a previous owner may have sent it already.
type Claimed struct {
	*Message
	Previous string
}

// ClaimQueued marks up to limit of a channel's oldest messages not yet sent
// as sending under the fence's epoch, in one statement that also checks the
// epoch, and returns them oldest first. It returns ErrStaleEpoch when the
// fence is stale (nothing is claimed then) and no messages when the queue is
// empty.
func (s *Store) ClaimQueued(ctx context.Context, f Fence, channelID string, limit int) ([]Claimed, error) {
	// The epoch is read under FOR SHARE in the same statement, so taking a
	// new epoch waits for the claim and a stale claim locks nothing.
	rows, err := s.Pool.Query(ctx, `UPDATE messages m SET status = 'sending', status_rank = 1, send_epoch = $4, updated_at = now()
		FROM (SELECT id, status FROM messages
			WHERE channel_id = $1 AND status IN ('queued', 'sending')
			  AND (SELECT epoch FROM shards WHERE shard = $3 FOR SHARE) = $4
			ORDER BY created_at, id LIMIT $2 FOR UPDATE) old
		WHERE m.id = old.id
		RETURNING old.status, `+qualifiedMessageCols, channelID, limit, f.Shard, f.Epoch)
	if err != nil {
		return nil, fmt.Errorf("store: claim queued messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Claimed, error) {
		var c Claimed
		var m Message
		err := row.Scan(&c.Previous, &m.ID, &m.ChannelID, &m.Direction, &m.IdempotencyKey, &m.RequestHash, &m.Chat, &m.Sender, &m.Type,
			&m.Body, &m.Status, &m.Reason, &m.Code, &m.WAID, &m.SendEpoch, &m.CreatedAt, &m.UpdatedAt, &m.SentAt, &m.DeliveredAt, &m.ReadAt, &m.ChatLID, &m.SenderLID)
		c.Message = &m
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim queued messages: %w", err)
	}
	if len(out) == 0 {
		// Nothing claimed: an empty queue, or a stale fence.
		var epoch int64
		if err := s.Pool.QueryRow(ctx, `SELECT epoch FROM shards WHERE shard = $1`, f.Shard).Scan(&epoch); err != nil {
			return nil, fmt.Errorf("store: read shard epoch: %w", err)
		}
		if epoch != f.Epoch {
			return nil, fmt.Errorf("%w (shard %d at epoch %d, writer holds %d)", ErrStaleEpoch, f.Shard, epoch, f.Epoch)
		}
		return nil, nil
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// Step is one message's move to a status: ID is its wagate id or its
// WhatsApp id, At the time of the change, and WAID, when set, the WhatsApp
// id to record (a send's). Payload, when set, is the message as the driver
// sent it (session.SendResult.Payload), recorded with it.
type Step struct {
	ID      string
	WAID    string
	At      time.Time
	Payload []byte
	// ChatLID is the LID WhatsApp addressed the chat by, as a receipt
	// reports it; kept as the message's chat_lid when it has none yet.
	ChatLID string
	// Media, on a send of a media message, is its file as WhatsApp's
	// upload describes it (recordSentMedia), kept with the sent status.
	Media *Media
}

// Failure says why messages failed: Reason in words, Code a stable code
// (pkg/session's Code… constants). It is stored with a failed status and
// cleared by any other, so the zero value goes with every other status.
type Failure struct {
	Reason, Code string
}

// Advance moves messages of a channel to status at one time when that is
// a step forward; it returns what AdvanceEach does.
func (s *Store) Advance(ctx context.Context, channelID string, msgIDs []string, status string, why Failure, waID string, at time.Time) ([]*Message, error) {
	steps := make([]Step, len(msgIDs))
	for i, id := range msgIDs {
		steps[i] = Step{ID: id, WAID: waID, At: at}
	}
	return s.AdvanceEach(ctx, channelID, status, why, steps)
}

// AdvanceEach moves messages of a channel to status, each at its step's
// time, when that is a step forward, in one statement. It returns the
// messages that changed, in the order of their steps, so each change is
// published once; of each only the id, channel, direction, WhatsApp id,
// chat, type, status, idempotency key and chat LID are read back.
func (s *Store) AdvanceEach(ctx context.Context, channelID, status string, why Failure, steps []Step) ([]*Message, error) {
	out, err := s.AdvanceMany(ctx, status, why, []ChannelSteps{{ChannelID: channelID, Steps: steps}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ChannelSteps are the steps of one channel's messages.
type ChannelSteps struct {
	ChannelID string
	Steps     []Step
}

// AdvanceMany is AdvanceEach for the messages of several channels in one
// statement: a worker records the receipts and sends of all its channels
// that arrive together with one commit. out[i] holds the messages of
// groups[i] that changed, in the order of its steps.
func (s *Store) AdvanceMany(ctx context.Context, status string, why Failure, groups []ChannelSteps) (out [][]*Message, err error) {
	return s.AdvanceAnnounced(ctx, status, why, groups, nil)
}

// AdvanceAnnounced is AdvanceMany that also writes, in the same
// transaction, the events announce builds for the messages that changed
// (the outbox): the statuses and their events land together or not at all.
func (s *Store) AdvanceAnnounced(ctx context.Context, status string, why Failure, groups []ChannelSteps, announce Announce) (out [][]*Message, err error) {
	stored, rank, below := status, StatusRank[status], StatusRank[status]
	if status == StatusFailedAfterSent {
		stored, rank, below = StatusFailed, StatusRank[StatusFailed], StatusRank[StatusDelivered]
	} else if _, ok := StatusRank[status]; !ok {
		return nil, fmt.Errorf("store: unknown status %q", status)
	}
	out = make([][]*Message, len(groups))
	// wagate ids are matched through the primary key and WhatsApp ids
	// through messages_wa_id, in separate arms: with one array matched
	// against both columns a generic plan scans the channel's history. Each
	// lookup is a subquery behind OFFSET 0, planned on its own for one id,
	// so that no plan reads the channel through messages_log, whichever
	// statistics the cached plan was made with.
	var own, ownCh, ownWA, ownLID, wa, waCh, waWA, waLID []string
	var ownAt, waAt []time.Time
	var ownPayload, waPayload [][]byte
	index := make(map[string]int, len(groups)) // channel → group
	for gi, g := range groups {
		index[g.ChannelID] = gi
		for _, st := range g.Steps {
			if strings.HasPrefix(st.ID, ids.Message) {
				own, ownCh, ownAt, ownWA = append(own, st.ID), append(ownCh, g.ChannelID), append(ownAt, st.At), append(ownWA, st.WAID)
				ownPayload, ownLID = append(ownPayload, st.Payload), append(ownLID, st.ChatLID)
			} else {
				wa, waCh, waAt, waWA = append(wa, st.ID), append(waCh, g.ChannelID), append(waAt, st.At), append(waWA, st.WAID)
				waPayload, waLID = append(waPayload, st.Payload), append(waLID, st.ChatLID)
			}
		}
	}
	if len(own)+len(wa) == 0 {
		return out, nil
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: advance messages: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	rows, err := tx.Query(ctx, `UPDATE messages SET status = $9, status_rank = $10, reason = $11, code = $17, updated_at = now(),
		wa_id = coalesce(nullif(s.s_wa, ''), wa_id),
		wa_payload = coalesce(s.s_payload, wa_payload),
		chat_lid = CASE WHEN chat_lid = '' THEN s.s_lid ELSE chat_lid END,
		sent_at = CASE WHEN $9 = 'sent' THEN s.s_at ELSE sent_at END,
		delivered_at = CASE WHEN $9 = 'delivered' OR ($10 > 4 AND delivered_at IS NULL) THEN s.s_at ELSE delivered_at END,
		read_at = CASE WHEN $9 IN ('read', 'played') AND read_at IS NULL THEN s.s_at ELSE read_at END
		FROM (
			SELECT DISTINCT ON (s_id) s_id, s_at, s_wa, s_payload, s_lid FROM (
				SELECT m.id AS s_id, o.s_at, o.s_wa, o.s_payload, o.s_lid
				FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $12::bytea[], $15::text[]) AS o(s_key, s_ch, s_at, s_wa, s_payload, s_lid),
				LATERAL (SELECT id FROM messages WHERE id = o.s_key AND channel_id = o.s_ch AND direction = 'outbound' OFFSET 0) m
				UNION ALL
				SELECT m.id, x.s_at, x.s_wa, x.s_payload, x.s_lid
				FROM unnest($5::text[], $6::text[], $7::timestamptz[], $8::text[], $13::bytea[], $16::text[]) AS x(s_key, s_ch, s_at, s_wa, s_payload, s_lid),
				LATERAL (SELECT id FROM messages WHERE channel_id = x.s_ch AND direction = 'outbound' AND wa_id = x.s_key
					AND wa_id IS NOT NULL OFFSET 0) m
			) found ORDER BY s_id, s_at, s_lid DESC
		) s
		WHERE messages.id = s.s_id AND messages.status_rank < $14 AND messages.status_rank <> $10
		RETURNING id, channel_id, coalesce(wa_id, ''), chat, type, status, coalesce(idempotency_key, ''), chat_lid`,
		own, ownCh, ownAt, ownWA, wa, waCh, waAt, waWA, stored, rank, why.Reason, ownPayload, waPayload, below, ownLID, waLID, why.Code)
	if err != nil {
		return nil, fmt.Errorf("store: advance messages: %w", err)
	}
	changed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Message, error) {
		m := &Message{Direction: "outbound"}
		return m, row.Scan(&m.ID, &m.ChannelID, &m.WAID, &m.Chat, &m.Type, &m.Status, &m.IdempotencyKey, &m.ChatLID)
	})
	if err != nil {
		return nil, fmt.Errorf("store: advance messages: %w", err)
	}
	for _, m := range changed {
		gi := index[m.ChannelID]
		out[gi] = append(out[gi], m)
	}
	for gi, g := range groups {
		order := make(map[string]int, len(g.Steps))
		for i := len(g.Steps) - 1; i >= 0; i-- {
			order[g.Steps[i].ID] = i
		}
		pos := func(m *Message) int {
			if i, ok := order[m.ID]; ok {
				return i
			}
			return order[m.WAID]
		}
		sort.SliceStable(out[gi], func(i, j int) bool { return pos(out[gi][i]) < pos(out[gi][j]) })
	}
	if status == StatusSent {
		sent := make([]string, len(changed))
		for i, m := range changed {
			sent[i] = m.ID
		}
		if err := touchChatsSent(ctx, tx, sent); err != nil {
			return nil, err
		}
		if err := recordSentFiles(ctx, tx, groups, changed); err != nil {
			return nil, err
		}
	}
	if announce != nil {
		var evs []OutboxEvent
		for gi := range groups {
			if len(out[gi]) == 0 {
				continue
			}
			e, err := announce(gi, out[gi])
			if err != nil {
				return nil, err
			}
			evs = append(evs, e...)
		}
		if err := insertOutbox(ctx, tx, evs); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("store: advance messages: %w", err)
	}
	return out, nil
}

// recordSentFiles keeps the files of the sent messages that changed.
func recordSentFiles(ctx context.Context, tx pgx.Tx, groups []ChannelSteps, changed []*Message) error {
	files := map[string]*Media{}
	for _, g := range groups {
		for _, st := range g.Steps {
			if st.Media != nil {
				files[st.ID] = st.Media
			}
		}
	}
	if len(files) == 0 {
		return nil
	}
	for _, m := range changed {
		d := files[m.ID]
		if d == nil {
			continue
		}
		row := *d
		row.MessageID, row.ChannelID = m.ID, m.ChannelID
		if err := recordSentMedia(ctx, tx, &row); err != nil {
			return err
		}
	}
	return nil
}

// RecordInbound stores a received message once (by WhatsApp id), and with
// it, in the same transaction, the events that announce it; created is
// false for a duplicate (nothing is written then). Text Postgres cannot
// store is sanitized first (SanitizeMessage), so such a message is
// recorded, not lost.
func (s *Store) RecordInbound(ctx context.Context, m *Message, evs ...OutboxEvent) (created bool, err error) {
	SanitizeMessage(m)
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: record inbound: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	tag, err := tx.Exec(ctx, `INSERT INTO messages (id, channel_id, direction, chat, sender, type, body, status, status_rank, wa_id, created_at, chat_lid, sender_lid)
		VALUES ($1, $2, 'inbound', $3, $4, $5, $6, 'received', 0, nullif($7, ''), $8, $9, $10)
		ON CONFLICT (channel_id, direction, wa_id) WHERE wa_id IS NOT NULL DO NOTHING`,
		m.ID, m.ChannelID, m.Chat, m.Sender, m.Type, m.Body, m.WAID, m.CreatedAt, m.ChatLID, m.SenderLID)
	if err != nil {
		return false, fmt.Errorf("store: record inbound: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := touchChatInbound(ctx, tx, m); err != nil {
		return false, err
	}
	if m.Media != nil {
		m.Media.MessageID, m.Media.ChannelID = m.ID, m.ChannelID
		if err := insertMedia(ctx, tx, m.Media); err != nil {
			return false, err
		}
	}
	if err := insertOutbox(ctx, tx, evs); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: record inbound: %w", err)
	}
	return true, nil
}

// ResolveWAID maps a wagate message id to its WhatsApp id (other ids are
// returned unchanged).
func (s *Store) ResolveWAID(ctx context.Context, channelID, id string) string {
	var wa string
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(wa_id, '') FROM messages WHERE channel_id = $1 AND id = $2`, channelID, id).Scan(&wa); err != nil || wa == "" {
		return id
	}
	return wa
}

// SentPayload returns the payload recorded with the message channelID sent
// under WhatsApp id waID (Step.Payload); nil without error when there is
// none.
func (s *Store) SentPayload(ctx context.Context, channelID, waID string) ([]byte, error) {
	var p []byte
	err := s.Pool.QueryRow(ctx, `SELECT wa_payload FROM messages
		WHERE channel_id = $1 AND direction = 'outbound' AND wa_id = $2`, channelID, waID).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: sent payload: %w", err)
	}
	return p, nil
}

// PollOptions returns the option names of the poll channelID sent or
// received under WhatsApp id waID, read from its body (poll.options in
// both directions); nil without error when there is no such poll.
func (s *Store) PollOptions(ctx context.Context, channelID, waID string) ([]string, error) {
	var raw []byte
	err := s.Pool.QueryRow(ctx, `SELECT body->'poll'->'options' FROM messages
		WHERE channel_id = $1 AND wa_id = $2 AND type = 'poll'
		ORDER BY direction DESC LIMIT 1`, channelID, waID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) || len(raw) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: poll options: %w", err)
	}
	var opts []string
	if err := json.Unmarshal(raw, &opts); err != nil {
		return nil, fmt.Errorf("store: poll options of %s: %w", waID, err)
	}
	return opts, nil
}

// MessageFilter narrows ListMessages; zero values mean no filter.
type MessageFilter struct {
	Chat, Direction, Status string
	Since, Until            time.Time
	// Before is a cursor: messages older than this id (ids sort by time).
	Before string
	Limit  int
}

// ListMessages returns a channel's messages, newest first.
func (s *Store) ListMessages(ctx context.Context, channelID string, f MessageFilter) ([]*Message, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	// One conversation, whichever form of its address the filter names:
	// its rows carry the phone-number JID (chat) and, where WhatsApp used
	// one, the LID (chat_lid); a message sent to a number before its LID
	// was known carries only the number.
	rows, err := s.Pool.Query(ctx, `WITH conv AS (
			SELECT $2::text AS k WHERE $2 <> ''
			UNION SELECT chat_lid FROM messages WHERE $2 <> '' AND channel_id = $1 AND chat = $2 AND chat_lid <> ''
			UNION SELECT chat FROM messages WHERE $2 <> '' AND channel_id = $1 AND chat_lid = $2)
		SELECT `+messageCols+` FROM messages
		WHERE channel_id = $1 AND ($2 = '' OR chat IN (SELECT k FROM conv) OR chat_lid IN (SELECT k FROM conv)) AND ($3 = '' OR direction = $3) AND ($4 = '' OR status = $4)
		  AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
		  AND ($7 = '' OR id < $7)
		ORDER BY id DESC LIMIT $8`,
		channelID, f.Chat, f.Direction, f.Status, nullTime(f.Since), nullTime(f.Until), f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// MessageByKey returns the message a channel stored under an idempotency key.
func (s *Store) MessageByKey(ctx context.Context, channelID, key string) (*Message, error) {
	return scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel_id = $1 AND idempotency_key = $2`, channelID, key))
}

// RecentChats returns the chats of a channel with messages (either way)
// created since since, the most recently active first, at most limit.
func (s *Store) RecentChats(ctx context.Context, channelID string, since time.Time, limit int) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT chat FROM messages
		WHERE channel_id = $1 AND created_at >= $2 AND chat <> ''
		GROUP BY chat ORDER BY max(created_at) DESC LIMIT $3`, channelID, since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent chats: %w", err)
	}
	chats, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: recent chats: %w", err)
	}
	return chats, nil
}
