-- The media file of a message: what WhatsApp needs to download it again
-- (direct_path, media_key, file_enc_sha256, file_sha256, file_length),
-- what describes it (mime, file_name, thumbnail), and where wagate keeps
-- it (storage_key, sha256, size once stored). status: pending (not stored
-- yet; fetched when wanted), stored, expired (deleted by retention, or
-- gone from WhatsApp and the phone), failed (cannot be fetched).
CREATE TABLE media (
    message_id      text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    channel_id      text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    direct_path     text NOT NULL DEFAULT '',
    media_key       bytea,
    file_enc_sha256 bytea,
    file_sha256     bytea,
    file_length     bigint NOT NULL DEFAULT 0,
    mime            text NOT NULL DEFAULT '',
    file_name       text NOT NULL DEFAULT '',
    thumbnail       bytea,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'expired', 'failed')),
    -- wanted: fetch it (auto-download, or asked for through the API).
    wanted          boolean NOT NULL DEFAULT false,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    error           text NOT NULL DEFAULT '',
    storage_key     text NOT NULL DEFAULT '',
    sha256          text NOT NULL DEFAULT '',
    size            bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    stored_at       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_due ON media (channel_id, next_attempt_at) WHERE status = 'pending' AND wanted;
CREATE INDEX media_retention ON media (stored_at) WHERE status = 'stored';
