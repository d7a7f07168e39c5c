package client_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/schemas"
)

// componentSchemas returns the schemas of openapi.yaml's components.
func componentSchemas(t *testing.T) map[string]map[string]any {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	return doc.Components.Schemas
}

// properties lists the property names of a component schema, following
// $ref and allOf.
func properties(t *testing.T, all map[string]map[string]any, name string) []string {
	t.Helper()
	sch, ok := all[name]
	require.True(t, ok, "no component schema %s", name)
	var out []string
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		if ref, ok := m["$ref"].(string); ok {
			walk(all[strings.TrimPrefix(ref, "#/components/schemas/")])
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for k := range props {
				out = append(out, k)
			}
		}
		if parts, ok := m["allOf"].([]any); ok {
			for _, p := range parts {
				if pm, ok := p.(map[string]any); ok {
					walk(pm)
				}
			}
		}
	}
	walk(sch)
	slices.Sort(out)
	return slices.Compact(out)
}

// jsonNames lists the JSON member names of a struct type, embedded
// structs included.
func jsonNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "":
			out = append(out, jsonNames(f.Type)...)
		case tag != "":
			out = append(out, tag)
		default:
			out = append(out, f.Name)
		}
	}
	slices.Sort(out)
	return out
}

// keys lists the members a value marshals to.
func keys(t *testing.T, v any) []string {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The client's types have exactly the members of the schemas they stand
// for, so a member added to openapi.yaml (by any feature) fails here until
// the client has it too.
func TestTypesMatchTheOpenAPISchemas(t *testing.T) {
	t.Parallel()
	all := componentSchemas(t)
	types := map[string]any{
		"Settings": client.Settings{}, "Channel": client.Channel{}, "ChannelCreated": client.ChannelCreated{},
		"ChannelList": client.ChannelList{}, "CreateChannelRequest": client.CreateChannelRequest{},
		"CommandAccepted": client.CommandAccepted{}, "BulkRequest": client.BulkRequest{}, "BulkResponse": client.BulkResponse{},
		"BulkResult": client.BulkResult{}, "QR": client.QR{}, "PairPhoneRequest": client.PairPhoneRequest{},
		"PairPhoneAccepted": client.PairPhoneAccepted{}, "PairingCode": client.PairingCode{}, "HistoryEntry": client.HistoryEntry{},
		"HistoryPage": client.HistoryPage{}, "SimAccepted": client.SimAccepted{},
		"SendMessageRequest": client.SendMessageRequest{}, "MediaInput": client.MediaInput{}, "LocationInput": client.LocationInput{},
		"ContactInput": client.ContactInput{}, "ReactionInput": client.ReactionInput{}, "EditInput": client.EditInput{},
		"DeleteInput": client.DeleteInput{}, "PollInput": client.PollInput{}, "MessageAccepted": client.MessageAccepted{},
		"Message": client.Message{}, "MessageList": client.MessageList{}, "ReadRequest": client.ReadRequest{},
		"PresenceRequest": client.PresenceRequest{}, "ChannelCommandQueued": client.ChannelCommandQueued{},
		"ChannelHealth": client.ChannelHealth{}, "Usage": client.Usage{}, "UsageList": client.UsageList{},
		"Webhook": client.Webhook{}, "WebhookWithSecret": client.WebhookWithSecret{}, "WebhookList": client.WebhookList{},
		"CreateWebhookRequest": client.CreateWebhookRequest{}, "RotateWebhookRequest": client.RotateWebhookRequest{},
		"RotateTokenRequest": client.RotateTokenRequest{}, "RotatedToken": client.RotatedToken{},
		"Delivery": client.Delivery{}, "DeliveryAttempt": client.DeliveryAttempt{}, "DeliveryPage": client.DeliveryPage{},
		"ReplayRequest": client.ReplayRequest{}, "ReplayAccepted": client.ReplayAccepted{}, "WebhookPayload": client.Event{},
		"StreamTokenRequest": client.StreamTokenRequest{}, "StreamToken": client.StreamToken{}, "StreamReady": client.StreamReady{},
		"StreamReset": client.StreamReset{}, "Health": client.Health{}, "Ready": client.Ready{},
		"Group": client.Group{}, "GroupParticipant": client.GroupParticipant{}, "GroupList": client.GroupList{},
		"GroupCreated": client.GroupCreated{}, "CreateGroupRequest": client.CreateGroupRequest{},
		"GroupParticipantsRequest": client.GroupParticipantsRequest{}, "GroupParticipantResult": client.GroupParticipantResult{},
		"GroupParticipantsChanged": client.GroupParticipantsChanged{}, "GroupLeft": client.GroupLeft{},
		"GroupInvite": client.GroupInvite{}, "JoinGroupRequest": client.JoinGroupRequest{}, "GroupJoined": client.GroupJoined{},
		"GroupPictureSet": client.GroupPictureSet{}, "GroupPictureRemoved": client.GroupPictureRemoved{},
		"NumberCheckRequest": client.NumberCheckRequest{}, "NumberCheck": client.NumberCheck{}, "NumberCheckList": client.NumberCheckList{},
		"Contact": client.Contact{}, "ContactList": client.ContactList{}, "ProfilePicture": client.ProfilePicture{},
		"Profile": client.Profile{}, "ProfilePatch": client.ProfilePatch{}, "ProfilePictureSet": client.ProfilePictureSet{},
		"CallRejectRequest": client.CallRejectRequest{}, "CallRejected": client.CallRejected{},
		"BlocklistEntry": client.BlocklistEntry{}, "Blocklist": client.Blocklist{}, "BlocklistChanged": client.BlocklistChanged{},
		"Chat": client.Chat{}, "ChatList": client.ChatList{},
		"MediaSettings": client.MediaSettings{}, "MediaInfo": client.MediaInfo{}, "PresenceSettings": client.PresenceSettings{},
		"SimNoArgs": client.SimNoArgs{}, "SimScanArgs": client.SimScanArgs{}, "SimInboundArgs": client.SimInboundArgs{},
		"SimReceiptArgs": client.SimReceiptArgs{}, "SimReactionArgs": client.SimReactionArgs{}, "SimPresenceArgs": client.SimPresenceArgs{},
		"SimCallArgs": client.SimCallArgs{}, "SimGroupArgs": client.SimGroupArgs{}, "SimBanArgs": client.SimBanArgs{},
		"SimConnectFailureArgs": client.SimConnectFailureArgs{}, "SimSendFailureArgs": client.SimSendFailureArgs{},
		"SimVoteArgs": client.SimVoteArgs{}, "SimRetryReceiptArgs": client.SimRetryReceiptArgs{},
		"SimContactArgs": client.SimContactArgs{}, "SimChatArgs": client.SimChatArgs{},
	}
	for name, v := range types {
		require.Equal(t, properties(t, all, name), jsonNames(reflect.TypeOf(v)), "client.%T and the OpenAPI schema %s", v, name)
	}

	// Request types that write only what changes: every member set.
	n, s, b, tm := 1, "x", true, time.Now()
	patches := map[string]any{
		"SettingsPatch": client.SettingsPatch{SendRate: &s, WarmupDays: &n, TypingMS: &n, MaxQueue: &n, RejectCalls: &b, RejectCallsReply: &s, HistoryDays: &n,
			Media: &client.MediaSettings{}, Presence: &client.PresenceSettings{}, Proxy: &s},
		"UpdateChannelRequest": client.UpdateChannelRequest{Name: s, Settings: &client.SettingsPatch{}},
		"UpdateWebhookRequest": client.UpdateWebhookRequest{URL: &s, Description: &s, Events: []string{}, Headers: map[string]string{},
			Enabled: &b, MaxInFlight: &n},
		"ChatUpdate":  client.ChatUpdate{Archived: &b, Pinned: &b, MutedUntil: tm, Read: &b},
		"GroupUpdate": client.GroupUpdate{Name: &s, Description: &s, Announce: &b, Locked: &b},
	}
	for name, v := range patches {
		require.Equal(t, properties(t, all, name), keys(t, v), "client.%T and the OpenAPI schema %s", v, name)
	}
	var covered []string
	for name := range types {
		covered = append(covered, name)
	}
	for name := range patches {
		covered = append(covered, name)
	}
	// Every object schema of the document has its client type, except
	// the ones the client expresses otherwise.
	expressedOtherwise := []string{
		"ChannelFields", "WebhookFields", "GroupFields", // the fields of Channel, Webhook, Group
		"StreamMessage", // a WebSocket message, read into StreamEvent
		"NotReady",      // Readyz's *Error
		"Error",         // *Error
	}
	for name, sch := range all {
		if sch["type"] == "object" || sch["allOf"] != nil {
			if !slices.Contains(covered, name) && !slices.Contains(expressedOtherwise, name) {
				t.Errorf("the OpenAPI schema %s has no client type: add one and list it here", name)
			}
		}
	}
}
