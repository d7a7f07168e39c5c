package groups_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{groups.ErrGroupNotFound, groups.CodeGroupNotFound, http.StatusNotFound},
		{groups.ErrNotParticipant, groups.CodeNotParticipant, http.StatusForbidden},
		{groups.ErrNotAdmin, groups.CodeNotAdmin, http.StatusForbidden},
		{groups.ErrRateLimited, groups.CodeRateLimited, http.StatusTooManyRequests},
		{session.ErrInvalid, groups.CodeInvalidRequest, http.StatusBadRequest},
		{session.ErrUnsupported, groups.CodeNotSupported, http.StatusNotImplemented},
		{session.ErrNotConnected, groups.CodeChannelNotActive, http.StatusConflict},
		{session.ErrNotPaired, groups.CodeChannelNotActive, http.StatusConflict},
		{context.DeadlineExceeded, groups.CodeTimeout, http.StatusGatewayTimeout},
		{errors.New("socket closed"), groups.CodeWhatsApp, http.StatusBadGateway},
		{groups.Errorf(groups.CodeChannelBusy, "busy"), groups.CodeChannelBusy, http.StatusServiceUnavailable},
	} {
		e := groups.ErrorOf(fmt.Errorf("driver: %w", tc.err))
		require.Equal(t, tc.code, e.Code, "%v", tc.err)
		require.Equal(t, tc.status, groups.Status(e.Code), tc.code)
	}
	require.Equal(t, http.StatusServiceUnavailable, groups.Status(groups.CodeChannelUnavailable))
	require.Equal(t, http.StatusBadGateway, groups.Status("from_a_newer_worker"))
}

func TestFailureReasons(t *testing.T) {
	t.Parallel()
	require.Equal(t, groups.ReasonInviteRequired, groups.FailureReason(403, true))
	require.Equal(t, groups.ReasonNotAuthorized, groups.FailureReason(403, false))
	require.Equal(t, groups.ReasonAlreadyParticipant, groups.FailureReason(409, false))
	require.Equal(t, groups.ReasonUnknown, groups.FailureReason(418, false))
}
