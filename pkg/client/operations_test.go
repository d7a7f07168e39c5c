package client_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/schemas"
)

// operations maps every operationId of schemas/openapi.yaml to the
// client's method for it. The values are method expressions, so a method
// that goes missing breaks the build of the tests, and
// TestEveryOperationHasAMethod fails for an operation added to the
// document without a method here.
var operations = map[string]any{
	"healthz": (*client.Client).Healthz,
	"readyz":  (*client.Client).Readyz,
	"metrics": (*client.Client).Metrics,
	"openapi": (*client.Client).OpenAPI,

	"createChannel":      (*client.Client).CreateChannel,
	"listChannels":       (*client.Client).ListChannels,
	"getChannel":         (*client.Client).GetChannel,
	"updateChannel":      (*client.Client).UpdateChannel,
	"deleteChannel":      (*client.Client).DeleteChannel,
	"startChannel":       (*client.Client).StartChannel,
	"stopChannel":        (*client.Client).StopChannel,
	"restartChannel":     (*client.Client).RestartChannel,
	"logoutChannel":      (*client.Client).LogoutChannel,
	"bulkLifecycle":      (*client.Client).BulkLifecycle,
	"channelHistory":     (*client.Client).ChannelHistory,
	"channelHealth":      (*client.Client).ChannelHealth,
	"channelUsage":       (*client.Client).ChannelUsage,
	"rotateChannelToken": (*client.Client).RotateChannelToken,

	"getQR":          (*client.Client).GetQR,
	"pairPhone":      (*client.Client).PairPhone,
	"getPairingCode": (*client.Client).GetPairingCode,
	"simulate":       (*client.Client).Simulate,

	"sendMessage":     (*client.Client).SendMessage,
	"listMessages":    (*client.Client).ListMessages,
	"getMessage":      (*client.Client).GetMessage,
	"getMessageMedia": (*client.Client).GetMessageMedia,
	"markRead":        (*client.Client).MarkRead,
	"sendPresence":    (*client.Client).SendPresence,

	"listGroups":              (*client.Client).ListGroups,
	"createGroup":             (*client.Client).CreateGroup,
	"getGroup":                (*client.Client).GetGroup,
	"updateGroupParticipants": (*client.Client).UpdateGroupParticipants,
	"leaveGroup":              (*client.Client).LeaveGroup,
	"getGroupInvite":          (*client.Client).GetGroupInvite,
	"resetGroupInvite":        (*client.Client).ResetGroupInvite,
	"joinGroup":               (*client.Client).JoinGroup,
	"updateGroup":             (*client.Client).UpdateGroup,
	"setGroupPicture":         (*client.Client).SetGroupPicture,
	"deleteGroupPicture":      (*client.Client).DeleteGroupPicture,

	"checkNumbers":      (*client.Client).CheckNumbers,
	"listContacts":      (*client.Client).ListContacts,
	"getContact":        (*client.Client).GetContact,
	"getContactPicture": (*client.Client).GetContactPicture,
	"getProfile":        (*client.Client).GetProfile,
	"updateProfile":     (*client.Client).UpdateProfile,
	"setProfilePicture": (*client.Client).SetProfilePicture,
	"rejectCall":        (*client.Client).RejectCall,
	"getBlocklist":      (*client.Client).GetBlocklist,
	"blockContact":      (*client.Client).BlockContact,
	"unblockContact":    (*client.Client).UnblockContact,

	"createChannelWebhook":         (*client.Client).CreateChannelWebhook,
	"listChannelWebhooks":          (*client.Client).ListChannelWebhooks,
	"getChannelWebhook":            (*client.Client).GetChannelWebhook,
	"updateChannelWebhook":         (*client.Client).UpdateChannelWebhook,
	"deleteChannelWebhook":         (*client.Client).DeleteChannelWebhook,
	"rotateChannelWebhookSecret":   (*client.Client).RotateChannelWebhookSecret,
	"listChannelWebhookDeliveries": (*client.Client).ListChannelWebhookDeliveries,
	"getChannelWebhookDelivery":    (*client.Client).GetChannelWebhookDelivery,
	"replayChannelWebhook":         (*client.Client).ReplayChannelWebhook,
	"listChannelDeadLetters":       (*client.Client).ListChannelDeadLetters,
	"createAdminWebhook":           (*client.Client).CreateAdminWebhook,
	"listAdminWebhooks":            (*client.Client).ListAdminWebhooks,
	"getAdminWebhook":              (*client.Client).GetAdminWebhook,
	"updateAdminWebhook":           (*client.Client).UpdateAdminWebhook,
	"deleteAdminWebhook":           (*client.Client).DeleteAdminWebhook,
	"rotateAdminWebhookSecret":     (*client.Client).RotateAdminWebhookSecret,
	"listAdminWebhookDeliveries":   (*client.Client).ListAdminWebhookDeliveries,
	"getAdminWebhookDelivery":      (*client.Client).GetAdminWebhookDelivery,
	"replayAdminWebhook":           (*client.Client).ReplayAdminWebhook,
	"listDeadLetters":              (*client.Client).ListDeadLetters,

	"listChats":        (*client.Client).ListChats,
	"updateChat":       (*client.Client).UpdateChat,
	"listChatMessages": (*client.Client).ListChatMessages,

	"createStreamToken":  (*client.Client).CreateStreamToken,
	"channelEventStream": (*client.Client).ChannelEvents,
	"eventStream":        (*client.Client).Events,
	"channelEventSocket": (*client.Client).ChannelSocket,
	"eventSocket":        (*client.Client).Socket,
}

// operationIDs lists the operationIds of schemas/openapi.yaml's paths
// (the webhooks section describes what wagate sends, not a route).
func operationIDs(t *testing.T) []string {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	var ids []string
	for _, item := range doc.Paths {
		for method, op := range item {
			if op, ok := op.(map[string]any); ok && method != "parameters" {
				id, _ := op["operationId"].(string)
				require.NotEmpty(t, id, "an operation without operationId")
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func TestEveryOperationHasAMethod(t *testing.T) {
	t.Parallel()
	ids := operationIDs(t)
	require.NotEmpty(t, ids)
	var missing, stale []string
	for _, id := range ids {
		if operations[id] == nil {
			missing = append(missing, id)
		}
	}
	for id := range operations {
		if !slices.Contains(ids, id) {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale)
	require.Empty(t, missing, "operations of schemas/openapi.yaml without a client method: add them to pkg/client and to the operations table")
	require.Empty(t, stale, "client methods of operations no longer in schemas/openapi.yaml")
}
