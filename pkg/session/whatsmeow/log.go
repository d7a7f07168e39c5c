package whatsmeow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// slogLogger adapts log/slog to whatsmeow's logger. whatsmeow logs
// protocol nodes (and so message payloads) only at debug level, from its
// Send and Recv modules; those are dropped unless protocol is set, so
// nothing about message contents reaches the logs by default. Info and
// above carry connection-level facts only.
type slogLogger struct {
	l        *slog.Logger
	module   string
	protocol bool
}

var _ waLog.Logger = (*slogLogger)(nil)

// newWALogger returns a whatsmeow logger writing to l under the "wa"
// module. Protocol dumps (modules Send and Recv at debug) are kept only
// when protocol is true.
func newWALogger(l *slog.Logger, protocol bool) waLog.Logger {
	return &slogLogger{l: l, module: "wa", protocol: protocol}
}

func (s *slogLogger) Sub(module string) waLog.Logger {
	return &slogLogger{l: s.l, module: s.module + "/" + module, protocol: s.protocol}
}

func (s *slogLogger) Errorf(msg string, args ...any) { s.log(slog.LevelError, msg, args) }
func (s *slogLogger) Warnf(msg string, args ...any)  { s.log(slog.LevelWarn, msg, args) }
func (s *slogLogger) Infof(msg string, args ...any)  { s.log(slog.LevelInfo, msg, args) }
func (s *slogLogger) Debugf(msg string, args ...any) {
	if !s.protocol && isProtocolModule(s.module) {
		return
	}
	s.log(slog.LevelDebug, msg, args)
}

func (s *slogLogger) log(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, fmt.Sprintf(msg, args...), "module", s.module)
}

// isProtocolModule reports whether module dumps raw protocol nodes.
func isProtocolModule(module string) bool {
	return strings.HasSuffix(module, "/Send") || strings.HasSuffix(module, "/Recv")
}
