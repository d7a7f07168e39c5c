-- Outbox: events written in the transaction of the state change they
-- announce, published to WA_EVT (Nats-Msg-Id = event id) and deleted once
-- acknowledged. Whoever owns the shard next publishes what is left.
CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    shard      integer NOT NULL,
    event_id   text NOT NULL UNIQUE,
    envelope   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_shard ON outbox (shard, seq);

-- The owner's sweep of queued messages whose wake-up was lost probes this
-- index once per running channel of a shard.
CREATE INDEX messages_queued_since ON messages (channel_id, created_at) WHERE status = 'queued';

-- Repeated identical transitions (a retry loop while WhatsApp is
-- unreachable) are coalesced into one history row: count and last_at.
ALTER TABLE connection_history ADD COLUMN count integer NOT NULL DEFAULT 1;
ALTER TABLE connection_history ADD COLUMN last_at timestamptz;
ALTER TABLE connection_history ADD COLUMN detail text NOT NULL DEFAULT '';
