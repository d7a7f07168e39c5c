package names_test

import (
	"testing"

	"github.com/wagate/wagate/pkg/names"
)

// BenchmarkCmdSubject builds the subject of a command, as every publisher does.
func BenchmarkCmdSubject(b *testing.B) {
	n := names.NewNATS("")
	b.ReportAllocs()
	for b.Loop() {
		_ = n.Cmd("ch_01jbench0000000000000000000", "send")
	}
}

// BenchmarkParseCmdStored splits a stored command subject into shard,
// channel and verb: the worker does it for every command it consumes.
func BenchmarkParseCmdStored(b *testing.B) {
	n := names.NewNATS("")
	subject := n.CmdStored(17, "ch_01jbench0000000000000000000", "send")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := n.ParseCmdStored(subject); err != nil {
			b.Fatal(err)
		}
	}
}
