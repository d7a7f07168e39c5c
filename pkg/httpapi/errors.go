package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Error is an API error with a stable code.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy of e with details.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// Common errors.
var (
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing or invalid bearer token: send Authorization: Bearer <admin or channel token>"}
	// ErrAdminRequired answers a channel-less route called without the
	// admin token. Same status and code as ErrUnauthorized: only the
	// message is more helpful, and it reveals nothing about channels.
	ErrAdminRequired = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "this route needs the admin token; a channel token reaches only the /v1/channels/{id}/… routes of its own channel"}
	// ErrTooManyFailures answers a client address that failed to
	// authenticate too often (with Retry-After).
	ErrTooManyFailures = &Error{Status: http.StatusTooManyRequests, Code: "too_many_auth_failures", Message: "too many failed authentications from this address; retry after the time in Retry-After"}
	ErrForbidden       = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this token does not grant access to this resource"}
	ErrNotFound        = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
	ErrChannelNF       = &Error{Status: http.StatusNotFound, Code: "channel_not_found", Message: "no channel with this id"}
)

// ErrInternal answers what no other error describes; the cause is logged,
// never shown.
var ErrInternal = &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "internal error; it has been logged"}

// Classify returns the answer to err: err itself when it is an *Error, a
// 503 when a dependency is down (see Unavailable), else ErrInternal.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := Unavailable(err); e != nil {
		return e
	}
	return ErrInternal
}

// Abort writes err as the response and stops the handler chain. Errors
// that are not *Error are logged (c.Error) and answered by Classify: 503
// with a stable code when Postgres, NATS or Redis is down, else 500
// internal_error without details. Every 503 carries Retry-After.
func Abort(c *gin.Context, err error) {
	var e *Error
	if !errors.As(err, &e) {
		_ = c.Error(err)
		e = Classify(err)
	}
	if e.Status == http.StatusServiceUnavailable && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	c.AbortWithStatusJSON(e.Status, gin.H{"error": e})
}

// MaxBody is the default limit of a request body.
const MaxBody = 1 << 20

// Bind decodes the JSON body into v strictly: unknown fields, wrong types,
// trailing data and bodies over limit bytes are errors with stable codes.
// An empty body decodes as {} when allowEmpty.
func Bind(c *gin.Context, v any, limit int64, allowEmpty bool) *Error {
	if limit <= 0 {
		limit = MaxBody
	}
	if c.Request.ContentLength > limit {
		return tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return Errorf(http.StatusBadRequest, "invalid_body", "could not read the request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			body = []byte("{}")
		} else {
			return Errorf(http.StatusBadRequest, "invalid_json", "the request body is empty; send a JSON object")
		}
	}
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json, not %q", ct)
	}
	return Decode(body, v)
}

// Decode strictly decodes one JSON value from body into v and refuses
// text Postgres cannot store (400 invalid_text: a U+0000 anywhere).
func Decode(body []byte, v any) *Error {
	if e := checkRawText(body); e != nil {
		return e
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, "invalid_json", "unexpected data after the JSON object")
	}
	return checkText(v)
}

func tooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body exceeds %d bytes", limit)
}

func jsonError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return Errorf(http.StatusBadRequest, "invalid_json", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return Errorf(http.StatusBadRequest, "invalid_field_type", "field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value).
			WithDetails(map[string]string{"field": field})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Errorf(http.StatusBadRequest, "unknown_field", "unknown field %q", field).WithDetails(map[string]string{"field": field})
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, "invalid_json", "the JSON body ends too early")
	default:
		return Errorf(http.StatusBadRequest, "invalid_json", "malformed JSON: %v", err)
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// Validation builds a 400 validation_failed error for one field.
func Validation(field, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "validation_failed", "%s: %s", field, fmt.Sprintf(format, args...)).
		WithDetails(map[string]string{"field": field})
}
