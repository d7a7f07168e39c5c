-- The stable code of a failed message (not_on_whatsapp, rejected_by_server,
-- invalid_media, send_retries_exhausted, undeliverable, ...), stored with its
-- reason in words so that the message log answers what message.failed said.
-- '' for any other status, and for messages that failed before this column.
ALTER TABLE messages ADD COLUMN code text NOT NULL DEFAULT '';
