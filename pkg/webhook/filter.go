package webhook

import (
	"slices"
	"strings"

	"github.com/wagate/wagate/pkg/event"
)

// eventTypes are the exact types an endpoint filter may name. A filter
// naming an unknown type is refused at registration, so a typo does not
// silently receive nothing.
var eventTypes = []string{
	event.ConnectionStatusChanged, event.ConnectionQR, event.ConnectionPairingCode,
	event.MessageReceived, event.MessageSent, event.MessageDelivered, event.MessageRead, event.MessagePlayed,
	event.MessageFailed, event.MessageReaction, event.MessageEdited, event.MessageDeleted, event.MessageUndecryptable, event.MessageMediaStored, event.MessageMediaFailed,
	event.GroupCreated, event.GroupMemberAdded, event.GroupMemberRemoved, event.GroupUpdated,
	event.CallReceived, event.CallRejected, event.PresenceUpdated, event.ChatUpdated, event.ChannelHealth, event.WebhookDisabled,
	event.HistoryMessage, event.HistorySyncProgress,
}

// historyCategory prefixes the events "*" leaves out.
const historyCategory = "history."

// maxFilters bounds the filters of one endpoint.
const maxFilters = 64

// categories are the first parts of the event types ("message" of
// "message.received"), which "<category>.*" filters name.
func categories() []string {
	var out []string
	for _, t := range eventTypes {
		c, _, _ := strings.Cut(t, ".")
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// matches reports whether an event of type typ passes one of filters:
// "*" (every event but the history ones), "<category>.*" (e.g.
// "message.*") or an exact type. History events (history.message: the
// old messages imported after pairing) reach only endpoints that name
// them, so a receiver of "*" is not flooded with months of old messages.
func matches(filters []string, typ string) bool {
	for _, f := range filters {
		switch {
		case f == "*" && !strings.HasPrefix(typ, historyCategory):
			return true
		case f == typ:
			return true
		case strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, f[:len(f)-1]):
			return true
		}
	}
	return false
}

// normalizeFilters checks filters and returns them sorted without
// duplicates; an empty list means every event. The returned string
// explains the first invalid filter.
func normalizeFilters(filters []string) ([]string, string) {
	if len(filters) == 0 {
		return []string{"*"}, ""
	}
	if len(filters) > maxFilters {
		return nil, "at most 64 filters"
	}
	cats := categories()
	out := make([]string, 0, len(filters))
	for _, f := range filters {
		switch {
		case f == "*":
		case strings.HasSuffix(f, ".*"):
			if !slices.Contains(cats, strings.TrimSuffix(f, ".*")) {
				return nil, "unknown event category in " + quote(f) + "; categories: " + strings.Join(cats, ", ")
			}
		case !slices.Contains(eventTypes, f):
			return nil, "unknown event type " + quote(f) + `; use "*", "<category>.*" or one of: ` + strings.Join(eventTypes, ", ")
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out), ""
}

func quote(s string) string { return `"` + s + `"` }
