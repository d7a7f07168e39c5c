-- When the current state ends by itself: the end of a temporary ban, so
-- the channel resource tells it after a reload, not only the live event.
ALTER TABLE channels ADD COLUMN state_expires_at timestamptz;
