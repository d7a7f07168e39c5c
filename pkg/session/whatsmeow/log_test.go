package whatsmeow

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoggerAdapter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := newWALogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), false)

	l.Sub("Client").Infof("connected to %s", "web.whatsapp.com")
	require.Contains(t, buf.String(), `level=INFO msg="connected to web.whatsapp.com" module=wa/Client`)
	buf.Reset()
	l.Warnf("w")
	l.Errorf("e")
	require.Contains(t, buf.String(), "level=WARN")
	require.Contains(t, buf.String(), "level=ERROR")
	buf.Reset()

	l.Sub("Client").Sub("Recv").Debugf("<message>%s</message>", "secret payload")
	l.Sub("Send").Debugf("<message>%s</message>", "secret payload")
	require.Empty(t, buf.String(), "protocol dumps are dropped")
	l.Sub("Socket").Debugf("dialing")
	require.Contains(t, buf.String(), "module=wa/Socket")

	buf.Reset()
	verbose := newWALogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), true)
	verbose.Sub("Recv").Debugf("<node/>")
	require.Contains(t, buf.String(), "module=wa/Recv", "kept when asked for")

	buf.Reset()
	quiet := newWALogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), true)
	quiet.Sub("Recv").Debugf("<node/>")
	require.Empty(t, buf.String(), "debug off at info level")
}
