package bus

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wagate/wagate/pkg/natsauth"
)

// Embedded is an in-process NATS server with JetStream that trusts only
// the credentials of its authority.
type Embedded struct {
	Server *server.Server
	Auth   *natsauth.Authority
}

// StartEmbedded starts a NATS server storing JetStream data under dir and
// accepting only credentials minted by auth (in-process connections too).
// listen is "host:port" for outside clients, or "" to accept in-process
// connections only.
func StartEmbedded(dir, listen string, auth *natsauth.Authority) (*Embedded, error) {
	if auth == nil {
		return nil, fmt.Errorf("bus: embedded NATS needs an authority: NATS is never open")
	}
	opts := &server.Options{
		ServerName: "wagate-embedded",
		JetStream:  true,
		StoreDir:   filepath.Join(dir, "nats"),
		NoSigs:     true,
		NoLog:      true,
	}
	if listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("bus: WAGATE_NATS_LISTEN=%q: expected host:port: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("bus: WAGATE_NATS_LISTEN=%q: bad port", listen)
		}
		opts.Host, opts.Port = host, p
	}
	if err := auth.Configure(opts); err != nil {
		return nil, err
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded NATS: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("bus: embedded NATS not ready after 10s (is %s already in use? set WAGATE_NATS_LISTEN to another address or empty)", listen)
	}
	return &Embedded{Server: s, Auth: auth}, nil
}

// As is the connect option authenticating as a fresh user of role.
func (e *Embedded) As(role natsauth.Role) (nats.Option, error) {
	userJWT, seed, err := e.Auth.User(role, "")
	if err != nil {
		return nil, err
	}
	return nats.UserJWTAndSeed(userJWT, string(seed)), nil
}

// ClientURL is the URL clients dial (in-process connections ignore it).
func (e *Embedded) ClientURL() string { return e.Server.ClientURL() }

// InProcess is the connect option for an in-process connection.
func (e *Embedded) InProcess() nats.Option { return nats.InProcessServer(e.Server) }

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
}
