-- Per-endpoint bound of the attempts in flight (pkg/webhook). NULL means
-- the dispatcher's default (webhook.Config.EndpointConcurrency, 4): existing
-- endpoints keep following it, and an operator who changes the default
-- changes it for every endpoint that did not choose a value of its own.
ALTER TABLE webhook_endpoints ADD COLUMN max_in_flight integer
    CHECK (max_in_flight BETWEEN 1 AND 64);
