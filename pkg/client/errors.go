package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is an answer of the API with a status other than 2xx:
// {"error": {"code", "message", "details"}}.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's stable snake_case code (channel_not_found,
	// validation_failed, …); empty when the answer was not the API's error
	// envelope (a proxy's page).
	Code string
	// Message says what went wrong, for humans.
	Message string
	// Details is the structured context of the error as JSON (e.g.
	// {"field": "name"}), nil when there is none. DetailsInto decodes it.
	Details json.RawMessage
	// RetryAfter is the server's Retry-After (on 429 and 503): wait this
	// long, then retry with the same Idempotency-Key. Zero when absent.
	RetryAfter time.Duration
	// RequestID is the answer's X-Request-Id, for the server's logs.
	RequestID string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wagate: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// DetailsInto decodes the error's details into v.
func (e *Error) DetailsInto(v any) error {
	if len(e.Details) == 0 {
		return errors.New("client: the error has no details")
	}
	return json.Unmarshal(e.Details, v)
}

// Temporary reports whether retrying the same request later may succeed:
// 429, 503 and 504 answers.
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
}

// IsCode reports whether err is (or wraps) an *Error or a
// *CommandFailedError with the given code.
func IsCode(err error, code string) bool {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code == code
	}
	if e, ok := errors.AsType[*CommandFailedError](err); ok {
		return e.Code == code
	}
	return false
}

// IsStatus reports whether err is (or wraps) an *Error with the given HTTP
// status.
func IsStatus(err error, status int) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Status == status
}

// IsNotFound reports whether err is a 404 answer (whatever its code).
func IsNotFound(err error) bool { return IsStatus(err, http.StatusNotFound) }

// RetryAfter returns the Retry-After of err's answer and whether err is a
// temporary API error (429, 503, 504) worth retrying.
func RetryAfter(err error) (time.Duration, bool) {
	e, ok := errors.AsType[*Error](err)
	if !ok || !e.Temporary() {
		return 0, false
	}
	return e.RetryAfter, true
}

// errorFrom builds the *Error of a non-2xx answer.
func errorFrom(resp *http.Response, raw []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	var env struct {
		Error *struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Error != nil && env.Error.Code != "" {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		if d := env.Error.Details; len(d) > 0 && string(d) != "null" {
			e.Details = d
		}
		return e
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = msg
	return e
}
