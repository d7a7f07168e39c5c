package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
)

// db holds the queries of webhook_endpoints, webhook_deliveries and
// webhook_attempts (migration 0003_webhooks.sql). Every time that decides
// when something is due comes from the database's now(), so dispatchers
// with skewed clocks agree.
//
// Signing secrets are sealed by box on the way in and opened on the way
// out: Postgres never holds one in the clear (migration 0009_secrets.sql).
type db struct {
	pool *pgxpool.Pool
	box  *secretbox.Box
}

// errLimit is returned when a scope already has maxEndpoints endpoints.
var errLimit = errors.New("webhook: endpoint limit reached")

// maxEndpoints bounds the endpoints of one channel, and the admin-level ones.
const maxEndpoints = 20

func micros(d time.Duration) int64 { return d.Microseconds() }

func scheduleMicros(s []time.Duration) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = micros(d)
	}
	return out
}

const endpointCols = `id, coalesce(channel_id, ''), url, description, events, headers, enabled, disabled_reason,
	disabled_at, secret, coalesce(previous_secret, ''), previous_secret_until, failing_since,
	consecutive_failures, backoff_until, coalesce(max_in_flight, 0), created_at, updated_at`

func (d db) scanEndpoint(row pgx.Row) (*Endpoint, error) {
	var e Endpoint
	var headers []byte
	err := row.Scan(&e.ID, &e.ChannelID, &e.URL, &e.Description, &e.Events, &headers, &e.Enabled,
		&e.DisabledReason, &e.DisabledAt, &e.Secret, &e.PreviousSecret, &e.PreviousSecretUntil,
		&e.FailingSince, &e.ConsecutiveFailures, &e.BackoffUntil, &e.MaxInFlight, &e.CreatedAt, &e.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(headers, &e.Headers); err != nil {
		return nil, fmt.Errorf("webhook: headers of %s: %w", e.ID, err)
	}
	if e.Secret, err = d.open(e.Secret); err != nil {
		return nil, fmt.Errorf("webhook: secret of %s: %w", e.ID, err)
	}
	if e.PreviousSecret, err = d.open(e.PreviousSecret); err != nil {
		return nil, fmt.Errorf("webhook: previous secret of %s: %w", e.ID, err)
	}
	return &e, nil
}

// open returns the plaintext of a stored secret. A plaintext one (a row
// from before encryption that SealSecrets has not reached yet) is
// returned as it is.
func (d db) open(stored string) (string, error) {
	if stored == "" || !secretbox.Sealed(stored) {
		return stored, nil
	}
	return d.box.Open(stored)
}

// scopeCond restricts endpoints to a scope: a channel's endpoints, or the
// admin-level ones when the scope is "".
const scopeCond = `channel_id IS NOT DISTINCT FROM nullif(%s, '')`

func (d db) createEndpoint(ctx context.Context, e *Endpoint) (*Endpoint, error) {
	headers, err := json.Marshal(e.Headers)
	if err != nil {
		return nil, err
	}
	sealed, err := d.box.Seal(e.Secret)
	if err != nil {
		return nil, err
	}
	got, err := d.scanEndpoint(d.pool.QueryRow(ctx, `INSERT INTO webhook_endpoints
		(id, channel_id, url, description, events, headers, enabled, disabled_reason, disabled_at, secret, max_in_flight)
		SELECT $1, nullif($2, ''), $3, $4, $5, $6, $7, CASE WHEN $7 THEN '' ELSE 'created disabled' END,
			CASE WHEN $7 THEN NULL ELSE now() END, $8, nullif($10::integer, 0)
		WHERE (SELECT count(*) FROM webhook_endpoints WHERE `+fmt.Sprintf(scopeCond, "$2")+`) < $9
		RETURNING `+endpointCols,
		e.ID, e.ChannelID, e.URL, e.Description, e.Events, headers, e.Enabled, sealed, maxEndpoints, e.MaxInFlight))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errLimit
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: create endpoint: %w", err)
	}
	return got, nil
}

func (d db) endpoint(ctx context.Context, scope, id string) (*Endpoint, error) {
	return d.scanEndpoint(d.pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints
		WHERE id = $1 AND `+fmt.Sprintf(scopeCond, "$2"), id, scope))
}

// endpointByID reads an endpoint of any scope.
func (d db) endpointByID(ctx context.Context, id string) (*Endpoint, error) {
	return d.scanEndpoint(d.pool.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id))
}

func (d db) listEndpoints(ctx context.Context, scope string) ([]*Endpoint, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints
		WHERE `+fmt.Sprintf(scopeCond, "$1")+` ORDER BY id`, scope)
	if err != nil {
		return nil, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	return d.collectEndpoints(rows)
}

// allEndpoints loads every endpoint, for the dispatcher's cache.
func (d db) allEndpoints(ctx context.Context) ([]*Endpoint, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints`)
	if err != nil {
		return nil, fmt.Errorf("webhook: load endpoints: %w", err)
	}
	return d.collectEndpoints(rows)
}

func (d db) collectEndpoints(rows pgx.Rows) ([]*Endpoint, error) {
	defer rows.Close()
	var out []*Endpoint
	for rows.Next() {
		e, err := d.scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// endpointPatch changes the fields that are not nil, and max_in_flight
// when SetMaxInFlight.
type endpointPatch struct {
	URL         *string
	Description *string
	Events      []string
	Headers     map[string]string
	Enabled     *bool
	// MaxInFlight is the new bound, 0 for the dispatcher's default.
	SetMaxInFlight bool
	MaxInFlight    int
}

// deadOnDisable turns the deliveries still waiting for a disabled endpoint
// into dead letters, which replay re-sends once it is enabled again.
const deadOnDisable = `UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, lease_owner = NULL,
	last_error = 'endpoint disabled: ' || $2, updated_at = now()
	WHERE endpoint_id = $1 AND status IN ('pending', 'failed')`

func (d db) updateEndpoint(ctx context.Context, scope, id string, p endpointPatch) (*Endpoint, error) {
	var headers []byte
	if p.Headers != nil {
		var err error
		if headers, err = json.Marshal(p.Headers); err != nil {
			return nil, err
		}
	}
	var out *Endpoint
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var err error
		// Enabling clears the failure streak so the endpoint starts afresh;
		// disabling records why.
		out, err = d.scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET
			url = coalesce($3, url), description = coalesce($4, description),
			events = coalesce($5, events), headers = coalesce($6, headers),
			enabled = coalesce($7, enabled),
			disabled_reason = CASE WHEN $7 THEN '' WHEN NOT $7 AND enabled THEN 'disabled through the API' ELSE disabled_reason END,
			disabled_at = CASE WHEN $7 THEN NULL WHEN NOT $7 AND enabled THEN now() ELSE disabled_at END,
			failing_since = CASE WHEN $7 AND NOT enabled THEN NULL ELSE failing_since END,
			consecutive_failures = CASE WHEN $7 AND NOT enabled THEN 0 ELSE consecutive_failures END,
			backoff_until = CASE WHEN $7 AND NOT enabled THEN NULL ELSE backoff_until END,
			max_in_flight = CASE WHEN $8 THEN nullif($9::integer, 0) ELSE max_in_flight END,
			updated_at = now()
			WHERE id = $1 AND `+fmt.Sprintf(scopeCond, "$2")+` RETURNING `+endpointCols,
			id, scope, p.URL, p.Description, p.Events, headers, p.Enabled, p.SetMaxInFlight, p.MaxInFlight))
		if err != nil {
			return err
		}
		if !out.Enabled {
			_, err = tx.Exec(ctx, deadOnDisable, id, out.DisabledReason)
		}
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("webhook: update endpoint: %w", err)
	}
	return out, err
}

func (d db) deleteEndpoint(ctx context.Context, scope, id string) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1 AND `+fmt.Sprintf(scopeCond, "$2"), id, scope)
	if err != nil {
		return fmt.Errorf("webhook: delete endpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// rotateSecret installs secret; the current one keeps signing for grace.
func (d db) rotateSecret(ctx context.Context, scope, id, secret string, grace time.Duration) (*Endpoint, error) {
	sealed, err := d.box.Seal(secret)
	if err != nil {
		return nil, err
	}
	return d.scanEndpoint(d.pool.QueryRow(ctx, `UPDATE webhook_endpoints SET
		previous_secret = CASE WHEN $4::bigint > 0 THEN secret END,
		previous_secret_until = CASE WHEN $4::bigint > 0 THEN now() + $4::bigint * interval '1 microsecond' END,
		secret = $3, updated_at = now()
		WHERE id = $1 AND `+fmt.Sprintf(scopeCond, "$2")+` RETURNING `+endpointCols, id, scope, sealed, micros(grace)))
}

// disableEndpoint disables an enabled endpoint and dead-letters what waits
// for it; changed is false when it was disabled already.
func (d db) disableEndpoint(ctx context.Context, id, reason string) (ep *Endpoint, changed bool, err error) {
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		ep, err = d.scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET enabled = false,
			disabled_reason = $2, disabled_at = now(), updated_at = now()
			WHERE id = $1 AND enabled RETURNING `+endpointCols, id, reason))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		_, err = tx.Exec(ctx, deadOnDisable, id, reason)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("webhook: disable endpoint: %w", err)
	}
	return ep, changed, nil
}

// sweepDisabled dead-letters deliveries recorded for endpoints that were
// disabled meanwhile (a dispatcher with a stale cache may defer a delivery
// to an endpoint another one just disabled).
func (d db) sweepDisabled(ctx context.Context) (int64, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE webhook_deliveries d SET status = 'dead', next_attempt_at = NULL,
		lease_owner = NULL, last_error = 'endpoint disabled: ' || e.disabled_reason, updated_at = now()
		FROM webhook_endpoints e
		WHERE e.id = d.endpoint_id AND NOT e.enabled AND d.status IN ('pending', 'failed')`)
	return tag.RowsAffected(), err
}

// Delivery is one event for one endpoint, with its retry state.
type Delivery struct {
	ID             string     `json:"id"`
	EndpointID     string     `json:"endpoint_id"`
	ChannelID      string     `json:"channel_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	EventSeq       uint64     `json:"event_seq"`
	Status         string     `json:"status"`
	AttemptCount   int        `json:"attempt_count"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastAttemptAt  *time.Time `json:"last_attempt_at,omitempty"`
	LastStatusCode *int       `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Attempts       []Attempt  `json:"attempts"`
}

// Attempt is one entry of the delivery log.
type Attempt struct {
	Attempt         int       `json:"attempt"`
	At              time.Time `json:"at"`
	StatusCode      *int      `json:"status_code,omitempty"`
	LatencyMS       int       `json:"latency_ms"`
	Error           string    `json:"error,omitempty"`
	ResponseSnippet string    `json:"response_snippet,omitempty"`
	Dispatcher      string    `json:"dispatcher,omitempty"`
	// Probe marks an attempt that probed a failing endpoint with this
	// delivery before its own retry was due; it does not count against
	// the delivery's schedule (Attempt is the attempt it stood in for).
	Probe bool `json:"probe,omitempty"`
}

// Delivery statuses.
const (
	StatusPending    = "pending"
	StatusDelivering = "delivering"
	StatusFailed     = "failed"
	StatusDelivered  = "delivered"
	StatusDead       = "dead"
)

var statuses = []string{StatusPending, StatusDelivering, StatusFailed, StatusDelivered, StatusDead}

// deliveryFilter selects deliveries; zero fields do not filter.
type deliveryFilter struct {
	EndpointID string
	// Channel restricts to the endpoints of one channel (not the
	// admin-level ones, whose log a channel token may not read).
	Channel  string
	Status   string
	EventID  string
	Before   string // cursor: ids older than this
	Limit    int
	Delivery string // one delivery id
}

const deliveryCols = `d.id, d.endpoint_id, d.channel_id, d.event_id, d.event_type, d.event_seq, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at, d.updated_at`

func (d db) deliveries(ctx context.Context, f deliveryFilter) ([]*Delivery, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d
		JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE ($1 = '' OR d.endpoint_id = $1) AND ($2 = '' OR e.channel_id = $2)
		AND ($3 = '' OR d.status = $3) AND ($4 = '' OR d.event_id = $4) AND ($5 = '' OR d.id < $5)
		AND ($7 = '' OR d.id = $7)
		ORDER BY d.id DESC LIMIT $6`, f.EndpointID, f.Channel, f.Status, f.EventID, f.Before, f.Limit, f.Delivery)
	if err != nil {
		return nil, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Delivery, error) {
		var x Delivery
		var seq int64
		err := r.Scan(&x.ID, &x.EndpointID, &x.ChannelID, &x.EventID, &x.EventType, &seq, &x.Status,
			&x.AttemptCount, &x.NextAttemptAt, &x.LastAttemptAt, &x.LastStatusCode, &x.LastError,
			&x.DeliveredAt, &x.CreatedAt, &x.UpdatedAt)
		x.EventSeq = uint64(seq)
		x.Attempts = []Attempt{}
		return &x, err
	})
	if err != nil || len(list) == 0 {
		return list, err
	}
	byID := make(map[string]*Delivery, len(list))
	idList := make([]string, len(list))
	for i, x := range list {
		byID[x.ID] = x
		idList[i] = x.ID
	}
	rows, err = d.pool.Query(ctx, `SELECT delivery_id, attempt, attempted_at, status_code, latency_ms, error,
		response_snippet, dispatcher, probe FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY id`, idList)
	if err != nil {
		return nil, fmt.Errorf("webhook: list attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Attempt
		if err := rows.Scan(&id, &a.Attempt, &a.At, &a.StatusCode, &a.LatencyMS, &a.Error, &a.ResponseSnippet, &a.Dispatcher, &a.Probe); err != nil {
			return nil, err
		}
		byID[id].Attempts = append(byID[id].Attempts, a)
	}
	return list, rows.Err()
}

// replay makes deliveries of endpoint due again with a fresh schedule: the
// delivery of eventID, or every delivery created since `since` whose
// status is in sts. It also lifts the endpoint's backoff, since a replay
// says the receiver is expected to answer now.
func (d db) replay(ctx context.Context, endpointID, eventID string, since time.Time, sts []string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0,
			next_attempt_at = now(), lease_owner = NULL, updated_at = now()
			WHERE endpoint_id = $1 AND status <> 'delivering'
			AND (CASE WHEN $2 <> '' THEN event_id = $2 ELSE created_at >= $3 AND status = ANY($4) END)`,
			endpointID, eventID, since, sts)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if n > 0 {
			_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET backoff_until = NULL WHERE id = $1`, endpointID)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("webhook: replay: %w", err)
	}
	return n, nil
}

// job is one delivery to attempt: fresh from WA_WEBHOOK (isNew, no row
// yet) or claimed from Postgres.
type job struct {
	deliveryID string
	isNew      bool
	endpointID string
	channelID  string
	eventID    string
	eventType  string
	seq        uint64
	payload    []byte
	// probe is set on a delivery claimed to probe its failing endpoint
	// (it holds the endpoint's probe_until); early when its own retry was
	// not due yet: then a failure leaves its schedule alone, and dueAt is
	// when that retry is due.
	probe bool
	early bool
	dueAt *time.Time
}

// deferJob records a delivery the dispatcher will not attempt now (the
// endpoint is busy or backing off, or disabled: status dead) and returns
// whether a row was written. A delivery recorded already is left alone.
// notBefore (nil: now) is the endpoint's backoff as this dispatcher knows
// it; a backoff ended meanwhile (the endpoint healed) does not hold it.
func (d db) deferJob(ctx context.Context, j *job, status string, notBefore *time.Time, reason string) (bool, error) {
	tag, err := d.pool.Exec(ctx, `INSERT INTO webhook_deliveries
		(id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, status, next_attempt_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8 <> 'pending' THEN NULL
			WHEN $9::timestamptz IS NULL THEN now()
			ELSE greatest(now(), least($9, (SELECT coalesce(backoff_until, now()) FROM webhook_endpoints WHERE id = $2))) END, $10)
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
		j.deliveryID, j.endpointID, j.channelID, j.eventID, j.eventType, int64(j.seq), j.payload, status, notBefore, reason)
	if err != nil {
		return false, fmt.Errorf("webhook: record deferred delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// recorded reports whether the delivery of eventID to endpointID exists:
// a redelivered WA_WEBHOOK message whose delivery is already in Postgres
// needs nothing more than its ack.
func (d db) recorded(ctx context.Context, endpointID, eventID string) (bool, error) {
	var ok bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2)`,
		endpointID, eventID).Scan(&ok)
	return ok, err
}

// claim leases up to total due deliveries to owner: at most the
// endpoint's max_in_flight (perEndpoint when it has none; never more than
// maxPerEndpoint) of one endpoint, and for busy endpoints their free slots
// instead; none of an endpoint that is disabled or backing off, oldest due
// first. A delivery whose lease ran out (its dispatcher died mid-attempt)
// is due again.
//
// An endpoint that is failing (a streak of failures) whose backoff has
// passed is probed instead: one delivery, the one waiting longest, even
// when its own retry lies ahead (early), and the endpoint's probe_until
// is leased with it so that no other dispatcher probes it meanwhile.
func (d db) claim(ctx context.Context, owner string, lease time.Duration, total, perEndpoint, maxPerEndpoint int, busyIDs []string, busyFree []int32) ([]*job, error) {
	rows, err := d.pool.Query(ctx, `WITH slots AS (
			SELECT * FROM unnest($4::text[], $5::int[]) AS s(endpoint_id, free)
		), cand AS (
			SELECT c.id, c.next_attempt_at, e.id AS endpoint_id, e.consecutive_failures > 0 AS probe
			FROM webhook_endpoints e
			CROSS JOIN LATERAL (
				SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
				WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'failed', 'delivering')
				AND (d.next_attempt_at <= now() OR (e.consecutive_failures > 0 AND d.status <> 'delivering'))
				ORDER BY d.next_attempt_at
				LIMIT CASE WHEN e.consecutive_failures > 0 THEN least(1, coalesce((SELECT free FROM slots WHERE slots.endpoint_id = e.id), 1))
					ELSE coalesce((SELECT free FROM slots WHERE slots.endpoint_id = e.id), least(coalesce(e.max_in_flight, $3), $7)) END
			) c
			WHERE e.enabled AND (e.backoff_until IS NULL OR e.backoff_until <= now())
			AND (e.consecutive_failures = 0 OR e.probe_until IS NULL OR e.probe_until <= now())
			ORDER BY c.next_attempt_at LIMIT $2
		), locked AS (
			SELECT d.id, d.endpoint_id, cand.probe, d.status AS was_status, d.next_attempt_at AS was_next
			FROM webhook_deliveries d JOIN cand ON cand.id = d.id
			WHERE d.status IN ('pending', 'failed', 'delivering')
			AND (d.next_attempt_at <= now() OR (cand.probe AND d.status <> 'delivering'))
			FOR UPDATE OF d SKIP LOCKED
		), probing AS (
			UPDATE webhook_endpoints SET probe_until = now() + $6::bigint * interval '1 microsecond'
			WHERE id IN (SELECT endpoint_id FROM locked WHERE probe)
		)
		UPDATE webhook_deliveries d SET status = 'delivering', lease_owner = $1,
			next_attempt_at = now() + $6::bigint * interval '1 microsecond', updated_at = now()
		FROM locked WHERE d.id = locked.id
		RETURNING d.id, d.endpoint_id, d.channel_id, d.event_id, d.event_type, d.event_seq, d.payload,
			locked.probe, locked.probe AND locked.was_status <> 'delivering' AND locked.was_next > now(), locked.was_next`,
		owner, total, perEndpoint, busyIDs, busyFree, micros(lease), maxPerEndpoint)
	if err != nil {
		return nil, fmt.Errorf("webhook: claim: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*job, error) {
		var j job
		var seq int64
		var wasNext time.Time
		err := r.Scan(&j.deliveryID, &j.endpointID, &j.channelID, &j.eventID, &j.eventType, &seq, &j.payload,
			&j.probe, &j.early, &wasNext)
		j.seq = uint64(seq)
		if j.early {
			j.dueAt = &wasNext
		}
		return &j, err
	})
}

// extendLeases pushes the lease of claimed deliveries still in flight.
func (d db) extendLeases(ctx context.Context, owner string, deliveryIDs []string, lease time.Duration) error {
	_, err := d.pool.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = now() + $3::bigint * interval '1 microsecond'
		WHERE id = ANY($1) AND lease_owner = $2 AND status = 'delivering'`, deliveryIDs, owner, micros(lease))
	return err
}

// release hands a claimed delivery back without counting an attempt
// (shutdown, or no endpoint slot after all): due now, or when its own
// retry is due for an early probe, whose endpoint may be probed again.
func (d db) release(ctx context.Context, owner string, j *job) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE webhook_deliveries SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'failed' END,
		lease_owner = NULL, next_attempt_at = greatest(now(), $3), updated_at = now()
		WHERE id = $1 AND lease_owner = $2 AND status = 'delivering'`, j.deliveryID, owner, j.dueAt)
	if j.probe {
		b.Queue(`UPDATE webhook_endpoints SET probe_until = NULL WHERE id = $1`, j.endpointID)
	}
	return d.pool.SendBatch(ctx, b).Close()
}

// Outcomes of an attempt.
const (
	outcomeDelivered = "delivered"
	outcomeFailed    = "failed"
	outcomeGone      = "gone"
)

// recordOut is what recording an attempt decided.
type recordOut struct {
	// status of the delivery after the attempt ("" when another dispatcher
	// had taken the delivery over meanwhile).
	status string
	// backoffUntil of the endpoint after a failure.
	backoffUntil *time.Time
	// disable is true when the endpoint has failed for longer than
	// DisableAfter.
	disable      bool
	failingSince *time.Time
}

// record stores the result of one attempt in one implicit transaction
// (one round trip); see queueRecord.
func (d db) record(ctx context.Context, owner string, cfg *Config, j *job, r *result) (recordOut, error) {
	var out recordOut
	b := &pgx.Batch{}
	queueRecord(b, owner, cfg, j, r, &out)
	if err := d.pool.SendBatch(ctx, b).Close(); err != nil {
		return recordOut{}, fmt.Errorf("webhook: record attempt: %w", err)
	}
	return out, nil
}

// queueRecord adds to b the statements that store the result of an
// attempt: the delivery row (created first for a job from WA_WEBHOOK), its
// new status and schedule, the attempt log entry and the endpoint's
// failure streak. out is filled when b has run.
func queueRecord(b *pgx.Batch, owner string, cfg *Config, j *job, r *result, out *recordOut) {
	sched := scheduleMicros(cfg.Schedule)
	retryAfter := micros(min(r.retryAfter, cfg.maxStep()))
	if j.isNew {
		b.Queue(`INSERT INTO webhook_deliveries (id, endpoint_id, channel_id, event_id, event_type, event_seq, payload,
			status, lease_owner, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'delivering', $8, now())
			ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
			j.deliveryID, j.endpointID, j.channelID, j.eventID, j.eventType, int64(j.seq), j.payload, owner)
	}
	var code *int
	if r.statusCode != 0 {
		code = &r.statusCode
	}
	scanStatus := func(row pgx.Row) error {
		err := row.Scan(&out.status)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	}
	early := j.early && r.outcome == outcomeFailed
	if early {
		// A failed probe with a delivery whose own retry was not due: the
		// delivery keeps its place in the schedule.
		b.Queue(`UPDATE webhook_deliveries SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'failed' END,
			next_attempt_at = greatest(now(), $3), lease_owner = NULL, last_attempt_at = now(),
			last_status_code = $4, last_error = $5, updated_at = now()
			WHERE id = $1 AND lease_owner = $2 AND status = 'delivering'
			RETURNING status`, j.deliveryID, owner, j.dueAt, code, r.err).QueryRow(scanStatus)
	} else {
		b.Queue(`UPDATE webhook_deliveries SET attempts = attempts + 1,
			status = CASE WHEN $3 = 'delivered' THEN 'delivered'
				WHEN $3 = 'gone' OR attempts + 1 > cardinality($4::bigint[]) THEN 'dead' ELSE 'failed' END,
			next_attempt_at = CASE WHEN $3 = 'failed' AND attempts + 1 <= cardinality($4::bigint[])
				THEN now() + greatest(($4::bigint[])[attempts + 1], $5::bigint) * interval '1 microsecond' END,
			lease_owner = NULL, last_attempt_at = now(), last_status_code = $6, last_error = $7,
			delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
			WHERE id = $1 AND lease_owner = $2 AND status = 'delivering'
			RETURNING status`, j.deliveryID, owner, r.outcome, sched, retryAfter, code, r.err).QueryRow(scanStatus)
	}
	b.Queue(`INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, error, response_snippet, dispatcher, probe)
		SELECT id, CASE WHEN $8 THEN attempts + 1 ELSE greatest(attempts, 1) END, $3, $4, $5, $6, $7, $8
		FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2`,
		j.endpointID, j.eventID, code, r.latency.Milliseconds(), r.err, r.snippet, owner, early)
	switch r.outcome {
	case outcomeDelivered:
		b.Queue(healEndpoints, []string{j.endpointID})
	case outcomeFailed:
		// Failures while the endpoint already backs off (attempts that were
		// in flight when it started) do not lengthen the backoff: the
		// streak counts backoff windows, not requests. Each window is a
		// probe interval: ProbeInterval doubled per window, at most
		// ProbeMaxInterval and never longer than the schedule's step for
		// the streak (or the receiver's Retry-After).
		b.Queue(`UPDATE webhook_endpoints SET
			failing_since = coalesce(failing_since, now()),
			consecutive_failures = CASE WHEN backoff_until > now() THEN consecutive_failures ELSE consecutive_failures + 1 END,
			backoff_until = CASE WHEN backoff_until > now() THEN backoff_until
				ELSE now() + greatest(least(
					($2::bigint[])[least(consecutive_failures + 1, cardinality($2::bigint[]))],
					$5::bigint * (1::bigint << least(consecutive_failures, 30)),
					$6::bigint), $3::bigint) * interval '1 microsecond' END,
			probe_until = CASE WHEN $7 THEN NULL ELSE probe_until END
			WHERE id = $1
			RETURNING backoff_until, failing_since, now() - failing_since > $4::bigint * interval '1 microsecond'`,
			j.endpointID, sched, retryAfter, micros(cfg.DisableAfter), micros(cfg.ProbeInterval), micros(cfg.ProbeMaxInterval), j.probe).
			QueryRow(func(row pgx.Row) error {
				err := row.Scan(&out.backoffUntil, &out.failingSince, &out.disable)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				return err
			})
	}
}

// healEndpoints ends the failure streak of the endpoints $1 that answered
// 2xx and makes every delivery waiting for them due at once, whatever
// its own schedule said: the receiver is back.
const healEndpoints = `WITH healed AS (
		UPDATE webhook_endpoints SET failing_since = NULL, consecutive_failures = 0, backoff_until = NULL, probe_until = NULL
		WHERE id = ANY($1::text[])
		AND (failing_since IS NOT NULL OR consecutive_failures > 0 OR backoff_until IS NOT NULL OR probe_until IS NOT NULL)
		RETURNING id
	)
	UPDATE webhook_deliveries SET next_attempt_at = now(), updated_at = now()
	WHERE endpoint_id IN (SELECT id FROM healed) AND status IN ('pending', 'failed') AND next_attempt_at > now()`

// recordDelivered is the common case of recording, grouped: fresh
// deliveries (no row yet) answered 2xx at their first attempt, written
// as delivered with their attempt log entries and the end of their
// endpoints' failure streaks (see healEndpoints), in one statement.
const recordDelivered = `WITH x AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[],
			$8::int[], $9::int[], $10::text[])
			AS x(id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, status_code, latency_ms, snippet)
	), ins AS (
		INSERT INTO webhook_deliveries (id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, status,
			attempts, last_attempt_at, last_status_code, delivered_at)
		SELECT id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, 'delivered', 1, now(), status_code, now()
		FROM x
		ON CONFLICT (endpoint_id, event_id) DO NOTHING
		RETURNING id
	), log AS (
		INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, response_snippet, dispatcher)
		SELECT x.id, 1, x.status_code, x.latency_ms, x.snippet, $11 FROM x JOIN ins ON ins.id = x.id
	), healed AS (
		UPDATE webhook_endpoints SET failing_since = NULL, consecutive_failures = 0, backoff_until = NULL, probe_until = NULL
		WHERE id IN (SELECT endpoint_id FROM x)
		AND (failing_since IS NOT NULL OR consecutive_failures > 0 OR backoff_until IS NOT NULL OR probe_until IS NOT NULL)
		RETURNING id
	), due AS (
		UPDATE webhook_deliveries SET next_attempt_at = now(), updated_at = now()
		WHERE endpoint_id IN (SELECT id FROM healed) AND status IN ('pending', 'failed') AND next_attempt_at > now()
	)
	SELECT id FROM ins`

// recordClaimedDelivered groups claimed deliveries answered 2xx: the
// update of each row this dispatcher still holds, its attempt log entry,
// and the end of the endpoints' failure streaks.
const recordClaimedDelivered = `WITH x AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[])
			AS x(id, endpoint_id, status_code, latency_ms, snippet)
	), upd AS (
		UPDATE webhook_deliveries d SET attempts = d.attempts + 1, status = 'delivered', next_attempt_at = NULL,
			lease_owner = NULL, last_attempt_at = now(), last_status_code = x.status_code, last_error = '',
			delivered_at = now(), updated_at = now()
		FROM x WHERE d.id = x.id AND d.lease_owner = $6 AND d.status = 'delivering'
		RETURNING d.id, d.attempts
	), log AS (
		INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, response_snippet, dispatcher)
		SELECT x.id, upd.attempts, x.status_code, x.latency_ms, x.snippet, $6 FROM x JOIN upd ON upd.id = x.id
	), healed AS (
		UPDATE webhook_endpoints SET failing_since = NULL, consecutive_failures = 0, backoff_until = NULL, probe_until = NULL
		WHERE id IN (SELECT endpoint_id FROM x)
		AND (failing_since IS NOT NULL OR consecutive_failures > 0 OR backoff_until IS NOT NULL OR probe_until IS NOT NULL)
		RETURNING id
	), due AS (
		UPDATE webhook_deliveries SET next_attempt_at = now(), updated_at = now()
		WHERE endpoint_id IN (SELECT id FROM healed) AND status IN ('pending', 'failed') AND next_attempt_at > now()
	)
	SELECT id FROM upd`

// attemptRecord is one attempt's result to record.
type attemptRecord struct {
	j *job
	r *result
}

// recordAll stores the results of several attempts in one implicit
// transaction (one round trip), in their order: each run of consecutive
// 2xx answers is one or two grouped statements (recordDelivered,
// recordClaimedDelivered), any other result takes the statements of
// queueRecord. A 2xx that the grouped statement could not apply (the
// delivery existed already, or another dispatcher took it over) is then
// recorded by queueRecord, which logs it as record does. When it fails,
// nothing of it is stored.
func (d db) recordAll(ctx context.Context, owner string, cfg *Config, recs []attemptRecord) ([]recordOut, error) {
	outs := make([]recordOut, len(recs))
	written := make(map[string]bool, len(recs))
	b := &pgx.Batch{}
	for i := 0; i < len(recs); {
		if recs[i].r.outcome != outcomeDelivered {
			queueRecord(b, owner, cfg, recs[i].j, recs[i].r, &outs[i])
			i++
			continue
		}
		end := i
		for end < len(recs) && recs[end].r.outcome == outcomeDelivered {
			end++
		}
		queueDelivered(b, owner, recs[i:end], written)
		i = end
	}
	if err := d.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("webhook: record attempts: %w", err)
	}
	var rest *pgx.Batch
	for i, x := range recs {
		if x.r.outcome != outcomeDelivered {
			continue
		}
		if written[x.j.deliveryID] {
			outs[i].status = StatusDelivered
			continue
		}
		if rest == nil {
			rest = &pgx.Batch{}
		}
		queueRecord(rest, owner, cfg, x.j, x.r, &outs[i])
	}
	if rest != nil {
		if err := d.pool.SendBatch(ctx, rest).Close(); err != nil {
			return nil, fmt.Errorf("webhook: record attempts: %w", err)
		}
	}
	return outs, nil
}

// queueDelivered adds the grouped statements of 2xx answers to b; the ids
// of the deliveries they recorded are set in written.
func queueDelivered(b *pgx.Batch, owner string, recs []attemptRecord, written map[string]bool) {
	var fresh, claimed struct {
		id, endpoint, channel, event, typ, snippet []string
		seq                                        []int64
		payload                                    [][]byte
		code, latency                              []int32
	}
	for _, x := range recs {
		c := &claimed
		if x.j.isNew {
			c = &fresh
			c.channel = append(c.channel, x.j.channelID)
			c.event = append(c.event, x.j.eventID)
			c.typ = append(c.typ, x.j.eventType)
			c.seq = append(c.seq, int64(x.j.seq))
			c.payload = append(c.payload, x.j.payload)
		}
		c.id = append(c.id, x.j.deliveryID)
		c.endpoint = append(c.endpoint, x.j.endpointID)
		c.code = append(c.code, int32(x.r.statusCode))
		c.latency = append(c.latency, int32(min(x.r.latency.Milliseconds(), 1<<31-1)))
		c.snippet = append(c.snippet, x.r.snippet)
	}
	collect := func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			written[id] = true
		}
		return rows.Err()
	}
	if len(fresh.id) > 0 {
		b.Queue(recordDelivered, fresh.id, fresh.endpoint, fresh.channel, fresh.event, fresh.typ, fresh.seq,
			fresh.payload, fresh.code, fresh.latency, fresh.snippet, owner).Query(collect)
	}
	if len(claimed.id) > 0 {
		b.Queue(recordClaimedDelivered, claimed.id, claimed.endpoint, claimed.code, claimed.latency, claimed.snippet, owner).
			Query(collect)
	}
}

// deferJobs records, like deferJob, deliveries that waited in memory for
// their endpoint and will not be attempted by this dispatcher now, as
// pending from notBefore (nil: now).
func (d db) deferJobs(ctx context.Context, jobs []*job, notBefore *time.Time) error {
	cols := struct {
		id, endpoint, channel, event, typ []string
		seq                               []int64
		payload                           [][]byte
	}{}
	for _, j := range jobs {
		cols.id = append(cols.id, j.deliveryID)
		cols.endpoint = append(cols.endpoint, j.endpointID)
		cols.channel = append(cols.channel, j.channelID)
		cols.event = append(cols.event, j.eventID)
		cols.typ = append(cols.typ, j.eventType)
		cols.seq = append(cols.seq, int64(j.seq))
		cols.payload = append(cols.payload, j.payload)
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO webhook_deliveries
		(id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, status, next_attempt_at)
		SELECT id, endpoint_id, channel_id, event_id, event_type, event_seq, payload, 'pending', greatest(now(), $8)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[])
			AS x(id, endpoint_id, channel_id, event_id, event_type, event_seq, payload)
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
		cols.id, cols.endpoint, cols.channel, cols.event, cols.typ, cols.seq, cols.payload, notBefore)
	if err != nil {
		return fmt.Errorf("webhook: record deferred deliveries: %w", err)
	}
	return nil
}

// queueDepth counts, per endpoint, the deliveries waiting in Postgres.
func (d db) queueDepth(ctx context.Context) (map[string]int, error) {
	rows, err := d.pool.Query(ctx, `SELECT endpoint_id, count(*) FROM webhook_deliveries
		WHERE status IN ('pending', 'failed', 'delivering') GROUP BY endpoint_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// prune deletes delivered deliveries (and their attempts) older than
// retention, in bounded batches.
func (d db) prune(ctx context.Context, retention time.Duration) (int64, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE status = 'delivered'
		AND delivered_at < now() - $1::bigint * interval '1 microsecond' LIMIT 10000)`, micros(retention))
	return tag.RowsAffected(), err
}
