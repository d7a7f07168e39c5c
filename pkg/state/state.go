// Package state names the connection states of a channel and the reasons
// that come with them. The worker is the only writer of a channel's state;
// see DESIGN.md for the machine:
//
//	inactive → initializing → qr_pending → authenticating → connecting → active
//	                 └──────────────(paired)──────────────────┘
//	active → disconnected → connecting → active       (auto-reconnect with backoff)
//	any → logged_out | banned | error | inactive
package state

// States of a channel.
const (
	Inactive       = "inactive"
	Initializing   = "initializing"
	QRPending      = "qr_pending"
	Authenticating = "authenticating"
	Connecting     = "connecting"
	Active         = "active"
	Disconnected   = "disconnected"
	LoggedOut      = "logged_out"
	Banned         = "banned"
	Error          = "error"
)

// All lists every state, in the order of the machine.
var All = []string{Inactive, Initializing, QRPending, Authenticating, Connecting, Active, Disconnected, LoggedOut, Banned, Error}

// Valid reports whether s is a state.
func Valid(s string) bool {
	for _, v := range All {
		if v == s {
			return true
		}
	}
	return false
}

// Reasons recorded with transitions.
const (
	ReasonStartRequested    = "start_requested"
	ReasonStopRequested     = "stop_requested"
	ReasonRestartRequested  = "restart_requested"
	ReasonLogoutRequested   = "logout_requested"
	ReasonResumed           = "resumed_by_worker"
	ReasonQRIssued          = "qr_issued"
	ReasonPairingCodeIssued = "pairing_code_issued"
	ReasonPaired            = "paired"
	ReasonConnected         = "connected"
	ReasonQRTimeout         = "qr_attempts_exhausted"
	ReasonPairFailed        = "pair_failed"
	ReasonRemoteClosed      = "connection_closed"
	ReasonLoggedOut         = "logged_out_from_phone"
	ReasonStreamReplaced    = "stream_replaced"
	ReasonTemporaryBan      = "temporary_ban"
	ReasonClientOutdated    = "client_outdated"
	ReasonUnreachable       = "whatsapp_unreachable"
	// ReasonProxyUnreachable: the channel's proxy (settings.proxy) could
	// not be reached, refused the credentials or could not reach WhatsApp.
	ReasonProxyUnreachable = "proxy_unreachable"
	// ReasonProxyUnreadable: the worker cannot open the channel's sealed
	// proxy URL (it has no WAGATE_SECRET_KEY, or not the key that sealed
	// it). Not retried: the worker's configuration must change.
	ReasonProxyUnreadable   = "proxy_unreadable"
	ReasonReconnecting      = "reconnecting"
	ReasonRetriesExhausted  = "reconnect_attempts_exhausted"
	ReasonDriverUnavailable = "driver_unavailable"
	ReasonDeviceMissing     = "device_missing"
)
