package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request (Standard Webhooks, plus the ordering aid).
const (
	// HeaderID is stable across every attempt and replay of one delivery:
	// the event id, which is also the payload's "id".
	HeaderID = "webhook-id"
	// HeaderTimestamp is the signing time in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature holds "v1,<base64 HMAC-SHA256>" per active secret,
	// space-separated while a rotated secret is still in its grace period.
	HeaderSignature = "webhook-signature"
	// HeaderSequence is the event's sequence in WA_EVT (also the payload's
	// "seq"): increasing with publication order, with gaps, so a receiver
	// can order the events of a channel.
	HeaderSequence = "webhook-sequence"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the length of a signing key: 192 bits.
const secretBytes = 24

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 24
// random bytes, the form the Standard Webhooks libraries accept.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// errBadSecret is returned for a secret not of the whsec_<base64> form.
var errBadSecret = errors.New("webhook: malformed signing secret")

func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, errBadSecret
	}
	return key, nil
}

// Sign returns the webhook-signature value of body sent as msgID at ts:
// one "v1,<base64 HMAC-SHA256(key, msgID.ts.body)>" per secret, separated
// by spaces.
func Sign(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	prefix := msgID + "." + strconv.FormatInt(ts.Unix(), 10) + "."
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		h := hmac.New(sha256.New, key)
		h.Write([]byte(prefix))
		h.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
