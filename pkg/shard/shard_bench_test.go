package shard_test

import (
	"testing"

	"github.com/wagate/wagate/pkg/shard"
)

// BenchmarkShardOf is the routing of a channel to its shard, done by the
// API for every channel it creates and by the tests that mirror the NATS
// subject transform.
func BenchmarkShardOf(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += shard.Of("ch_01jbench0000000000000000000", 64)
	}
	if n < 0 {
		b.Fatal(n)
	}
}
