package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/session"
)

// Point 3 of issue 16: whatsmeow's errors for sends that can never succeed
// are classified, each built exactly as send.go builds it.
func TestNoJammedQueueSendErrorsAreClassified(t *testing.T) {
	t.Parallel()
	to := types.NewJID("15550100000", types.DefaultUserServer)
	for _, tc := range []struct {
		name      string
		err       error
		code      string
		permanent bool
	}{
		// send.go, after the account's LID migration: GetUserInfo knows no LID.
		{"not on WhatsApp", fmt.Errorf("no LID found for %s from server", to), session.CodeNotOnWhatsApp, true},
		{"server error 463", fmt.Errorf("%w %d", wa.ErrServerReturnedError, 463), session.CodeRejectedByServer, true},
		{"server error 479", fmt.Errorf("%w %d", wa.ErrServerReturnedError, 479), session.CodeRejectedByServer, true},
		{"server error 500", fmt.Errorf("%w %d", wa.ErrServerReturnedError, 500), "", false},
		{"recipient is a device", wa.ErrRecipientADJID, session.CodeInvalidRequest, true},
		{"not connected", wa.ErrNotConnected, "", false},
		{"timeout", context.DeadlineExceeded, "", false},
		{"info query failed", fmt.Errorf("failed to get user info for %s to fill LID cache: %w", to, errors.New("websocket closed")), "", false},
	} {
		err := sendError(tc.err)
		code, permanent := session.FailureCode(fmt.Errorf("whatsmeow: send msg_x: %w", err))
		require.Equal(t, tc.code, code, tc.name)
		require.Equal(t, tc.permanent, permanent, tc.name)
		require.ErrorIs(t, err, tc.err, "%s: the original error is kept", tc.name)
	}
}

// Media that cannot be read or sent as its type is invalid_media; an
// upload that failed at WhatsApp is worth a retry.
func TestNoJammedQueueInvalidMedia(t *testing.T) {
	t.Parallel()
	bd, up := testBuilder(t)
	_, err := bd.build(context.Background(), alice, SendBody{Type: "image", Media: &Media{Base64: b64(pdf)}})
	code, permanent := session.FailureCode(err)
	require.True(t, permanent)
	require.Equal(t, session.CodeInvalidMedia, code)

	up.err = errors.New("media conn: timed out")
	_, err = bd.build(context.Background(), alice, SendBody{Type: "image", Media: &Media{Base64: b64(pngImage(t, 1, 1))}})
	_, permanent = session.FailureCode(err)
	require.False(t, permanent)
}
