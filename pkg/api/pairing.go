package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/skip2/go-qrcode"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// qrSize is the side of rendered QR codes in pixels.
const qrSize = 256

const mimePNG = "image/png"

// storedQR is the current QR code as the worker keeps it in Redis.
type storedQR struct {
	Code        string    `json:"code"`
	ExpiresAt   time.Time `json:"expires_at"`
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"max_attempts"`
}

func (s *Server) getQR(c *gin.Context) {
	ch := channelOf(c)
	var q storedQR
	found, err := s.readCode(c, s.cfg.Keys.QR(ch.ID), &q)
	if err != nil {
		abort(c, err)
		return
	}
	if !found || q.Code == "" || !q.ExpiresAt.After(time.Now()) {
		abort(c, notAvailable(ch, "qr_not_available", "QR code", "connection.qr"))
		return
	}
	png, err := qrcode.Encode(q.Code, qrcode.Medium, qrSize)
	if err != nil {
		abort(c, fmt.Errorf("api: render QR code: %w", err))
		return
	}
	c.Header("Cache-Control", "no-store")
	if c.NegotiateFormat(gin.MIMEJSON, mimePNG) == mimePNG {
		c.Data(http.StatusOK, mimePNG, png)
		return
	}
	c.JSON(http.StatusOK, event.QR{
		Code:           q.Code,
		ImagePNGBase64: base64.StdEncoding.EncodeToString(png),
		ExpiresAt:      q.ExpiresAt,
		Attempt:        q.Attempt,
		MaxAttempts:    q.MaxAttempts,
	})
}

func (s *Server) getPairingCode(c *gin.Context) {
	ch := channelOf(c)
	var p event.PairingCode
	found, err := s.readCode(c, s.cfg.Keys.PairingCode(ch.ID), &p)
	if err != nil {
		abort(c, err)
		return
	}
	if !found || p.Code == "" || !p.ExpiresAt.After(time.Now()) {
		abort(c, notAvailable(ch, "pairing_code_not_available", "pairing code", "connection.pairing_code"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, p)
}

// readCode decodes the JSON value of a Redis key into v.
func (s *Server) readCode(c *gin.Context, key string, v any) (bool, error) {
	raw, err := s.cfg.Redis.Get(c.Request.Context(), key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("api: read %s: %w", key, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("api: decode %s: %w", key, err)
	}
	return true, nil
}

// notAvailable says why a channel has no QR or pairing code and what to do.
func notAvailable(ch *store.Channel, code, what, eventType string) *httpapi.Error {
	var msg string
	switch {
	case ch.JID != "" || ch.State == state.Active:
		msg = fmt.Sprintf("channel %s is already paired (state %s), so there is no %s; to link another phone, log it out (POST /v1/channels/%s/logout) and start it again",
			ch.ID, ch.State, what, ch.ID)
	case ch.DesiredState != store.DesiredRunning:
		msg = fmt.Sprintf("channel %s is not running (state %s), so there is no %s; start it (POST /v1/channels/%s/start), then poll again or subscribe to %s events",
			ch.ID, ch.State, what, ch.ID, eventType)
	default:
		msg = fmt.Sprintf("channel %s has no current %s (state %s); one appears within seconds of a start, so poll again or subscribe to %s events; if the attempts ran out, start the channel again",
			ch.ID, what, ch.State, eventType)
	}
	return httpapi.Errorf(http.StatusNotFound, code, "%s", msg).
		WithDetails(map[string]string{"state": ch.State, "desired_state": ch.DesiredState})
}

type pairPhoneRequest struct {
	Phone *string `json:"phone"`
}

type pairAccepted struct {
	accepted
	Phone string `json:"phone"`
}

func (s *Server) pairPhone(c *gin.Context) {
	ch := channelOf(c)
	var req pairPhoneRequest
	if err := httpapi.Bind(c, &req, s.cfg.MaxBody, false); err != nil {
		abort(c, err)
		return
	}
	if req.Phone == nil {
		abort(c, httpapi.Validation("phone", "is required: the number to link in international form, e.g. +49 151 2345678"))
		return
	}
	phone, verr := normalizePhone(*req.Phone)
	if verr != nil {
		abort(c, verr)
		return
	}
	if ch.JID != "" {
		abort(c, httpapi.Errorf(http.StatusConflict, "already_paired",
			"channel %s is already paired; log it out (POST /v1/channels/%s/logout) before linking another phone", ch.ID, ch.ID))
		return
	}
	key, verr := idempotencyKey(c)
	if verr != nil {
		abort(c, verr)
		return
	}
	env := s.envelope(c)
	env.Phone = phone
	err := s.command(c.Request.Context(), ch.ID, pairPhone, env, msgID(env.RequestID, key, ch.ID, pairPhone.verb, false))
	if errors.Is(err, store.ErrNotFound) {
		abort(c, httpapi.ErrChannelNF)
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	c.JSON(http.StatusAccepted, pairAccepted{
		accepted: accepted{ID: ch.ID, Action: pairPhone.verb, State: ch.State, DesiredState: pairPhone.desired, RequestID: env.RequestID},
		Phone:    phone,
	})
}

// normalizePhone accepts an international number with an optional +,
// spaces and dashes, and returns its digits.
func normalizePhone(s string) (string, *httpapi.Error) {
	digits := strings.Map(func(r rune) rune {
		if r == '+' || r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", httpapi.Validation("phone", "must hold only digits, an optional leading +, spaces and dashes, not %q", s)
		}
	}
	if len(digits) < 7 || len(digits) > 15 {
		return "", httpapi.Validation("phone", "must have 7 to 15 digits with the country code, not %d", len(digits))
	}
	if digits[0] == '0' {
		return "", httpapi.Validation("phone", "must start with the country code, not 0 (e.g. 49 for Germany)")
	}
	return digits, nil
}
