// Package shard maps channels to shards.
//
// The mapping must agree, bit for bit, with the NATS subject transform
// {{partition(S,1)}} that the WA_CMD stream applies to command subjects:
// both hash the channel id with 32-bit FNV-1a and take it modulo S. A
// command published by any app lands in the partition whose lease holder
// runs the channel's session.
package shard

import "hash/fnv"

// Of returns the shard of channelID among n shards.
func Of(channelID string, n int) int {
	if n <= 0 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(channelID))
	return int(h.Sum32() % uint32(n))
}
