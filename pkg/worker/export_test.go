package worker

// BeforeInbound sets a hook that runs before an inbound message is
// recorded; returning false stops there, as a process killed at that
// instant would.
func BeforeInbound(f func(channel string) bool) func(*Config) {
	return func(c *Config) { c.beforeInbound = f }
}
