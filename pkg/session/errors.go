package session

import (
	"errors"
	"strconv"
)

// Errors of a send that can never succeed. Each wraps into the error a
// driver's Send returns; FailureCode maps them to the stable code of the
// message.failed event.
var (
	// ErrNotOnWhatsApp: the recipient's number has no WhatsApp account
	// (whatsmeow: "no LID found for … from server"; the simulator: a number
	// ending in 0000).
	ErrNotOnWhatsApp = errors.New("session: recipient is not on WhatsApp")
	// ErrInvalidMedia: the media of the message cannot be fetched, read or
	// sent as its type (it wraps ErrInvalid too).
	ErrInvalidMedia = errors.New("session: invalid media")
)

// ReasonInboundNotRecorded is the reason of the Disconnected a driver
// emits when the worker could not record a received message (its Ack
// carried an error, or never came): the connection is dropped so that the
// worker reconnects and WhatsApp delivers the message again.
const ReasonInboundNotRecorded = "inbound_not_recorded"

// Stable codes of failed sends, the "code" of message.failed.
const (
	CodeNotOnWhatsApp    = "not_on_whatsapp"
	CodeRejectedByServer = "rejected_by_server"
	CodeInvalidMedia     = "invalid_media"
	CodeInvalidRequest   = "invalid_request"
	CodeUnsupported      = "unsupported"
	// CodeRetriesExhausted: every attempt failed with an error worth a retry.
	CodeRetriesExhausted = "send_retries_exhausted"
	// CodeUndeliverable: WhatsApp's server accepted the message, then
	// reported that it could not deliver it (a server-error receipt).
	CodeUndeliverable = "undeliverable"
)

// StatusFailed is the Status of a receipt that reports a sent message
// as undeliverable (its Type is message.failed).
const StatusFailed = "failed"

// ServerError is an error code WhatsApp's server answered a send with.
// Codes below 500 (400 bad request, 403 forbidden, 463 and 479, which
// WhatsApp returns for recipients it will not deliver to from this
// account) are permanent; 5xx are worth a retry.
type ServerError struct {
	Code int
	Err  error
}

func (e *ServerError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "server returned error " + strconv.Itoa(e.Code)
}

func (e *ServerError) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help.
func (e *ServerError) Permanent() bool { return e.Code > 0 && e.Code < 500 }

// FailureCode classifies a send error: the stable code of a send that can
// never succeed, and permanent = false for errors worth a retry (timeouts,
// a lost connection, 5xx answers).
func FailureCode(err error) (code string, permanent bool) {
	var se *ServerError
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, ErrNotOnWhatsApp):
		return CodeNotOnWhatsApp, true
	case errors.As(err, &se):
		if se.Permanent() {
			return CodeRejectedByServer, true
		}
		return "", false
	case errors.Is(err, ErrInvalidMedia):
		return CodeInvalidMedia, true
	case errors.Is(err, ErrInvalid):
		return CodeInvalidRequest, true
	case errors.Is(err, ErrUnsupported):
		return CodeUnsupported, true
	}
	return "", false
}
