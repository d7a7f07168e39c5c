-- Secrets at rest and channel token rotation.
--
-- Webhook signing secrets are stored sealed by pkg/secretbox ("enc:v1:<key
-- id>:<ciphertext>", AES-256-GCM with WAGATE_SECRET_KEY). Rows written
-- before this migration are sealed by the first process that starts with
-- the key (webhook.SealSecrets); NOT VALID leaves those rows to it while
-- every insert and update from now on must store a sealed value.
ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_secret_sealed CHECK (secret LIKE 'enc:v1:%') NOT VALID,
    ADD CONSTRAINT webhook_endpoints_previous_secret_sealed
        CHECK (previous_secret IS NULL OR previous_secret LIKE 'enc:v1:%') NOT VALID;

-- A rotated channel token stays valid until previous_token_expires_at, so
-- clients can switch without downtime (POST /v1/channels/{id}/token/rotate).
ALTER TABLE channels
    ADD COLUMN previous_token_hash bytea,
    ADD COLUMN previous_token_expires_at timestamptz;
