-- Endpoint probing (pkg/webhook). While an endpoint fails, dispatchers
-- probe it with one delivery at a time at short, growing intervals;
-- probe_until is the lease of the probe in flight, so that dispatchers do
-- not probe the same endpoint at once (NULL: none).
ALTER TABLE webhook_endpoints ADD COLUMN probe_until timestamptz;
-- A probe made with a delivery whose own retry was not due yet does not
-- count against that delivery's schedule; its log entry says so.
ALTER TABLE webhook_attempts ADD COLUMN probe boolean NOT NULL DEFAULT false;
