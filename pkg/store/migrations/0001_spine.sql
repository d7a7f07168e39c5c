-- Spine: fleet metadata, shards with fencing epochs, channels, connection history,
-- and the simulator's paired devices.
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE shards (
    shard      integer PRIMARY KEY,
    epoch      bigint NOT NULL DEFAULT 0,
    owner      text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE channels (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    token_hash       bytea NOT NULL,
    shard            integer NOT NULL,
    driver           text NOT NULL,
    desired_state    text NOT NULL DEFAULT 'stopped' CHECK (desired_state IN ('running', 'stopped', 'deleted')),
    state            text NOT NULL DEFAULT 'inactive',
    state_reason     text NOT NULL DEFAULT '',
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    state_epoch      bigint NOT NULL DEFAULT 0,
    jid              text,
    phone            text,
    push_name        text,
    paired_at        timestamptz,
    settings         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE INDEX channels_shard ON channels (shard) WHERE deleted_at IS NULL;
CREATE INDEX channels_state ON channels (state) WHERE deleted_at IS NULL;

CREATE TABLE connection_history (
    id         bigserial PRIMARY KEY,
    channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    reason     text NOT NULL DEFAULT '',
    epoch      bigint NOT NULL,
    worker     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connection_history_channel ON connection_history (channel_id, id DESC);

CREATE TABLE sim_devices (
    jid        text PRIMARY KEY,
    channel_id text NOT NULL,
    phone      text NOT NULL,
    push_name  text NOT NULL DEFAULT '',
    platform   text NOT NULL DEFAULT '',
    identity   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sim_devices_channel ON sim_devices (channel_id);
