-- A channel's proxy (settings.proxy, package netproxy). The settings JSON
-- keeps it masked (socks5://user:***@host:1080), as the API shows it;
-- proxy keeps the whole URL, password included, sealed by pkg/secretbox
-- ("enc:v1:…", WAGATE_SECRET_KEY), for the worker that connects the
-- channel. '' when the channel has none.
ALTER TABLE channels ADD COLUMN proxy text NOT NULL DEFAULT ''
    CONSTRAINT channels_proxy_sealed CHECK (proxy = '' OR proxy LIKE 'enc:v1:%');
