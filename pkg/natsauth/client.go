package natsauth

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// Client is how a split binary authenticates to NATS: one of a .creds
// file, a user and password, or an nkey seed file; and optionally TLS.
type Client struct {
	// CredsFile is a .creds file (WAGATE_NATS_CREDS).
	CredsFile string
	// User and Password (WAGATE_NATS_USER, WAGATE_NATS_PASSWORD), for a
	// server configured with users rather than accounts.
	User, Password string
	// NKeySeedFile is a file holding a user nkey seed (WAGATE_NATS_NKEY).
	NKeySeedFile string
	// TLSCA verifies the server (WAGATE_NATS_TLS_CA); TLSCert and TLSKey
	// are the client certificate when the server asks for one
	// (WAGATE_NATS_TLS_CERT, WAGATE_NATS_TLS_KEY).
	TLSCA, TLSCert, TLSKey string
}

// ErrNoCredentials is returned by Options when no credential is set.
var ErrNoCredentials = errors.New("natsauth: no NATS credentials")

// Options returns the connect options of c.
func (c Client) Options() ([]nats.Option, error) {
	var opts []nats.Option
	n := 0
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
		n++
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
		n++
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("natsauth: nkey seed %s: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
		n++
	}
	if n == 0 {
		return nil, ErrNoCredentials
	}
	if n > 1 {
		return nil, errors.New("natsauth: set one of a creds file, a user and password, or an nkey seed")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, errors.New("natsauth: a TLS client certificate needs both its certificate and its key")
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	return opts, nil
}
