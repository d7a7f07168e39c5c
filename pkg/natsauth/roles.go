package natsauth

import (
	"fmt"
	"strings"

	"github.com/nats-io/jwt/v2"
)

// Role is the kind of client a credential is for; it decides the account
// and the subject permissions.
type Role string

// Roles.
const (
	// RoleAdmin may do everything in the WAGATE account: cmd/gateway (all
	// parts in one process) and `api migrate`.
	RoleAdmin Role = "admin"
	// RoleAPI publishes commands, requests (wa.rpc) and change
	// announcements, and creates or updates the streams.
	RoleAPI Role = "api"
	// RoleWorker consumes commands, answers requests and publishes events.
	RoleWorker Role = "worker"
	// RoleDispatcher consumes events, fans them out into WA_WEBHOOK and
	// delivers them; it may publish webhook.disabled events only.
	RoleDispatcher Role = "dispatcher"
	// RoleApp is an application outside wagate (the APP account): it may
	// only publish commands and receive replies.
	RoleApp Role = "app"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAPI, RoleWorker, RoleDispatcher, RoleApp}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("natsauth: unknown role %q (expected one of %s)", s, strings.Join(names, ", "))
}

// fleet returns each wa.… subject as is and under any fleet prefix.
func fleet(subjects ...string) []string {
	out := make([]string, 0, 2*len(subjects))
	for _, s := range subjects {
		out = append(out, s, "*."+s)
	}
	return out
}

// JetStream API subjects a client of streams needs: reading stream
// information and messages, managing consumers, fetching and acking.
var jsUse = []string{
	"$JS.API.INFO",
	"$JS.API.STREAM.INFO.*",
	"$JS.API.STREAM.NAMES",
	"$JS.API.STREAM.LIST",
	"$JS.API.STREAM.MSG.GET.*",
	"$JS.API.DIRECT.GET.>",
	"$JS.API.CONSUMER.>",
	"$JS.ACK.>",
	"$JS.FC.>",
}

// jsManage lets a client create and update streams (EnsureStreams).
var jsManage = []string{"$JS.API.STREAM.CREATE.*", "$JS.API.STREAM.UPDATE.*"}

// inbox is where replies arrive: request/reply answers, JetStream
// acknowledgements and pull-consumer deliveries.
const inbox = "_INBOX.>"

// permissions of each role.
func permissions(r Role) (jwt.Permissions, error) {
	var p jwt.Permissions
	switch r {
	case RoleAdmin:
		p.Pub.Allow.Add(">")
		p.Sub.Allow.Add(">")
	case RoleAPI:
		p.Pub.Allow.Add(fleet("wa.cmd.>", "wa.rpc.>", "wa.ctl.>")...)
		p.Pub.Allow.Add(jsUse...)
		p.Pub.Allow.Add(jsManage...)
		p.Sub.Allow.Add(inbox)
		p.Sub.Allow.Add(fleet("wa.ctl.>")...)
	case RoleWorker:
		// Replies go to inboxes: request answers, and the outcome of a
		// command that named one in Wagate-Reply-To.
		p.Pub.Allow.Add(fleet("wa.evt.>", "wa.ctl.>")...)
		p.Pub.Allow.Add(inbox)
		p.Pub.Allow.Add(jsUse...)
		p.Sub.Allow.Add(inbox)
		p.Sub.Allow.Add(fleet("wa.rpc.>", "wa.ctl.>")...)
	case RoleDispatcher:
		p.Pub.Allow.Add(fleet("wa.whk.>", "wa.ctl.>", "wa.evt.*.webhook.disabled")...)
		p.Pub.Allow.Add(jsUse...)
		p.Sub.Allow.Add(inbox)
		p.Sub.Allow.Add(fleet("wa.ctl.>")...)
	case RoleApp:
		p.Pub.Allow.Add(fleet("wa.cmd.>")...)
		p.Sub.Allow.Add(inbox)
	default:
		return p, fmt.Errorf("natsauth: unknown role %q", r)
	}
	return p, nil
}
