package worker

import "strings"

// maxDetail bounds the detail stored with a state reason.
const maxDetail = 300

// dialKinds classify the text of a connection error, first match wins:
// the drivers report errors as text (whatsmeow's ConnectFailure carries a
// message), so the text is what there is to classify.
var dialKinds = []struct{ kind, needle string }{
	{"dns", "no such host"},
	{"dns", "server misbehaving"},
	{"dns", "lookup "},
	{"tls", "x509:"},
	{"tls", "tls:"},
	{"tls", "certificate"},
	{"refused", "connection refused"},
	{"reset", "connection reset"},
	{"unreachable", "network is unreachable"},
	{"unreachable", "no route to host"},
	{"timeout", "i/o timeout"},
	{"timeout", "deadline exceeded"},
	{"timeout", "timed out"},
	{"closed", "eof"},
}

// dialDetail is the detail of a state reason for a connection error:
// its kind (dns, tls, refused, reset, unreachable, timeout, closed) and
// its text, e.g. "dns: dial tcp: lookup web.whatsapp.com: no such host".
func dialDetail(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	lower := strings.ToLower(msg)
	for _, k := range dialKinds {
		if strings.Contains(lower, k.needle) {
			msg = k.kind + ": " + msg
			break
		}
	}
	if len(msg) > maxDetail {
		msg = msg[:maxDetail]
	}
	return msg
}
