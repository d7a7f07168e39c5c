-- Webhooks: endpoints, one delivery per (event, endpoint) with its durable
-- retry state, and the log of every attempt. See pkg/webhook/doc.go.
CREATE TABLE webhook_endpoints (
    id                     text PRIMARY KEY,
    -- NULL: an admin-level endpoint that receives the events of every channel.
    channel_id             text REFERENCES channels (id) ON DELETE CASCADE,
    url                    text NOT NULL,
    description            text NOT NULL DEFAULT '',
    events                 text[] NOT NULL,
    headers                jsonb NOT NULL DEFAULT '{}',
    enabled                boolean NOT NULL DEFAULT true,
    disabled_reason        text NOT NULL DEFAULT '',
    disabled_at            timestamptz,
    secret                 text NOT NULL,
    -- The secret replaced by the last rotation keeps signing until then.
    previous_secret        text,
    previous_secret_until  timestamptz,
    -- Failure streak, shared by every dispatcher: when the endpoint started
    -- failing (NULL after a success), how many backoff windows it has
    -- failed in a row, and until when it is not attempted.
    failing_since          timestamptz,
    consecutive_failures   integer NOT NULL DEFAULT 0,
    backoff_until          timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_channel ON webhook_endpoints (channel_id);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    channel_id       text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    -- Sequence of the event in WA_EVT: the ordering aid sent with it.
    event_seq        bigint NOT NULL,
    -- The exact body sent (the event envelope plus seq), kept for retries and replays.
    payload          bytea NOT NULL,
    -- pending: waiting for its first attempt; delivering: claimed by a
    -- dispatcher whose lease ends at next_attempt_at; failed: waiting for
    -- the retry at next_attempt_at; delivered; dead: dead letter.
    status           text NOT NULL CHECK (status IN ('pending', 'delivering', 'failed', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_owner      text,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
-- The claim query walks each endpoint's due deliveries in due order.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE status IN ('pending', 'delivering', 'failed');
-- The delivery log and dead-letter lists page by id (time-ordered).
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (id DESC) WHERE status = 'dead';
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE status = 'delivered';

CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    attempted_at     timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       integer NOT NULL,
    error            text NOT NULL DEFAULT '',
    response_snippet text NOT NULL DEFAULT '',
    dispatcher       text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
