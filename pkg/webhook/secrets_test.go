package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

// No signing secret is readable in Postgres: not the current one, not the
// one a rotation keeps signing, in no table and no column. Deliveries are
// signed with them all the same.
func TestNoWebhookSecretReadableInPostgres(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	rc := newReceiver(t, nil)
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	b.endpoint(t, "", map[string]any{"url": rc.srv.URL})
	var rotated endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPost, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/rotate",
		map[string]any{"grace_period": "1h"}, &rotated))
	b.start(t, b.fastConfig())
	ev := b.publish(t, ch, event.MessageReceived)
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev.ID] == 2 }, "delivered to both endpoints")
	admin := 0
	for _, r := range rc.requests() {
		if len(strings.Fields(r.Header.Get(webhook.HeaderSignature))) == 1 {
			admin++ // the admin-level endpoint's, signed with its one secret
			continue
		}
		verify(t, ep.Secret, r)
		verify(t, rotated.Secret, r)
	}
	require.Equal(t, 1, admin)

	ctx := context.Background()
	rows, err := b.st.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, tables, "webhook_endpoints")
	for _, table := range tables {
		var n int
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM "`+table+`" AS r WHERE r::text LIKE '%whsec\_%'`).Scan(&n))
		require.Zero(t, n, "rows of %s hold a readable webhook secret", table)
	}
	var sealed int
	require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints
		WHERE secret LIKE 'enc:v1:%' AND (previous_secret IS NULL OR previous_secret LIKE 'enc:v1:%')`).Scan(&sealed))
	require.Equal(t, 2, sealed)

	// The database refuses a plaintext secret from any writer.
	_, err = b.st.Pool.Exec(ctx, `UPDATE webhook_endpoints SET secret = $1 WHERE id = $2`, ep.Secret, ep.ID)
	require.ErrorContains(t, err, "webhook_endpoints_secret_sealed")
}
