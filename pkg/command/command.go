// Package command defines the commands wagate's workers execute: their
// verbs (the last token of wa.cmd.<channel>.<verb>) and bodies. The HTTP
// API publishes them; apps may publish them straight to NATS with the same
// JSON (schemas/commands). A command is processed in order with the other
// commands of its channel, in the channel's mailbox.
package command

import (
	"encoding/json"
	"time"
)

// Verbs.
const (
	Start     = "start"
	Stop      = "stop"
	Restart   = "restart"
	Logout    = "logout"
	Delete    = "delete"
	PairPhone = "pair_phone"
	Send      = "send"
	Read      = "read"
	Presence  = "presence"
	// Sim carries a simulator control (scan, inbound, disconnect, ...).
	Sim = "sim"
	// DownloadMedia asks the channel's owner to fetch the file of
	// MessageID now (the API marked it wanted first).
	DownloadMedia = "download_media"
)

// All lists every verb a worker executes; each has a schema in
// schemas/commands.
var All = []string{Start, Stop, Restart, Logout, Delete, PairPhone, Send, Read, Presence, Sim, DownloadMedia}

// Lifecycle lists the lifecycle verbs accepted by the bulk API.
var Lifecycle = []string{Start, Stop, Restart, Logout, Delete}

// Envelope is the body of every command. Fields unused by a verb are omitted.
type Envelope struct {
	// RequestID identifies the request (also its Nats-Msg-Id when no
	// idempotency key was given).
	RequestID   string    `json:"request_id,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// Phone is the number to link for pair_phone.
	Phone string `json:"phone,omitempty"`
	// MessageID names the stored message a `send` from the API wakes the
	// channel for. A `send` published straight to NATS has no MessageID:
	// its body is the send request itself (messaging.Request).
	MessageID string `json:"message_id,omitempty"`
	// Chat and MessageIDs are the messages to mark read for `read`; State
	// is the presence for `presence` (available, unavailable, composing,
	// recording, paused), in Chat for chat states.
	Chat       string   `json:"chat,omitempty"`
	MessageIDs []string `json:"message_ids,omitempty"`
	Sender     string   `json:"sender,omitempty"`
	State      string   `json:"state,omitempty"`
	// Action and Args are the simulator control for sim.
	Action string          `json:"action,omitempty"`
	Args   json.RawMessage `json:"args,omitempty"`
}
