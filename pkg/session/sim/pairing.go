package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/session"
)

// QR cadence of the WhatsApp server as whatsmeow reports it (qrchan.go):
// one batch of six codes, the first valid for 60 s and the others for 20 s
// each, then the login socket closes.
const (
	QRCodes       = 6
	firstQRExpiry = 60 * time.Second
	nextQRExpiry  = 20 * time.Second
)

// UserServer is the server part of a user's JID.
const UserServer = "s.whatsapp.net"

// pairing is the state of a session showing QR codes.
type pairing struct {
	// keys is the constant tail of every QR code of the attempt:
	// ",<noise key>,<identity key>,<adv secret>" in whatsmeow's layout.
	keys     string
	identity []byte
	// attempt counts the codes shown so far; expires is when the current
	// one expires.
	attempt int
	expires time.Time
	// phone and code are set once PairPhone issued a pairing code.
	phone string
	code  string
}

func newPairing(now time.Time) *pairing {
	noise, identity, adv := randomBytes(32), randomBytes(32), randomBytes(32)
	b64 := base64.StdEncoding.EncodeToString
	return &pairing{
		keys:     "," + b64(noise) + "," + b64(identity) + "," + b64(adv),
		identity: identity,
		expires:  now,
	}
}

// next returns the pairing's next QR code and how long it lives (unscaled).
func (p *pairing) next() (code string, lifetime time.Duration) {
	p.attempt++
	lifetime = nextQRExpiry
	if p.attempt == 1 {
		lifetime = firstQRExpiry
	}
	// The server's ref differs for every code; whatsmeow appends the keys.
	return "2@" + base64.StdEncoding.EncodeToString(randomBytes(36)) + p.keys, lifetime
}

// linkingBase32 is the alphabet of WhatsApp pairing codes (pair-code.go).
var linkingBase32 = base32.NewEncoding("123456789ABCDEFGHJKLMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// newPairingCode returns a code in WhatsApp's XXXX-XXXX form.
func newPairingCode() string {
	c := linkingBase32.EncodeToString(randomBytes(5))
	return c[:4] + "-" + c[4:]
}

// validatePhone keeps the digits of phone and checks them as whatsmeow's
// PairPhone does before it asks the server.
func validatePhone(phone string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	switch {
	case len(digits) <= 6:
		return "", fmt.Errorf("%w: phone number too short", session.ErrInvalid)
	case strings.HasPrefix(digits, "0"):
		return "", fmt.Errorf("%w: phone number is not international (it must not start with 0)", session.ErrInvalid)
	}
	return digits, nil
}

// randomPhone returns a number of the 555 range, which no one owns.
func randomPhone() string { return fmt.Sprintf("1555%07d", randomInt(10_000_000)) }

// deviceJID is the JID of companion device n of phone.
func deviceJID(phone string, n int64) string { return fmt.Sprintf("%s:%d@%s", phone, n, UserServer) }

// WAID is the WhatsApp id the simulator gives a message sent with wagate's
// id messageID: deterministic, so a retried send gets the same id, and
// shaped like the ids of WhatsApp Web ("3EB0" and 16 upper-case hex digits).
func WAID(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return "3EB0" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// randomMessageID is the id of a message sent by a simulated phone.
func randomMessageID() string { return "3A" + strings.ToUpper(hex.EncodeToString(randomBytes(9))) }

// newConnID names one connection of a device.
func newConnID() string { return hex.EncodeToString(randomBytes(8)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}
