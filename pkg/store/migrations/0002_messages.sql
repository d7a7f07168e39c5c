-- Messages: the outbound queue and the log of every message in and out,
-- daily usage counters, and each channel's health band.
CREATE TABLE messages (
    id              text PRIMARY KEY,
    channel_id      text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    direction       text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    idempotency_key text,
    request_hash    bytea,
    chat            text NOT NULL,
    sender          text NOT NULL DEFAULT '',
    type            text NOT NULL,
    body            jsonb NOT NULL,
    status          text NOT NULL,
    status_rank     smallint NOT NULL,
    reason          text NOT NULL DEFAULT '',
    wa_id           text,
    send_epoch      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    delivered_at    timestamptz,
    read_at         timestamptz
);
CREATE UNIQUE INDEX messages_idempotency ON messages (channel_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX messages_wa_id ON messages (channel_id, direction, wa_id) WHERE wa_id IS NOT NULL;
CREATE INDEX messages_log ON messages (channel_id, created_at DESC, id DESC);
CREATE INDEX messages_queue ON messages (channel_id, created_at, id) WHERE status IN ('queued', 'sending');

CREATE TABLE usage_daily (
    channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    day        date NOT NULL,
    sent       integer NOT NULL DEFAULT 0,
    delivered  integer NOT NULL DEFAULT 0,
    read       integer NOT NULL DEFAULT 0,
    failed     integer NOT NULL DEFAULT 0,
    received   integer NOT NULL DEFAULT 0,
    disconnects integer NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, day)
);

ALTER TABLE channels ADD COLUMN health_band text NOT NULL DEFAULT '';
