package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/testenv"
)

// Rows from before encryption are sealed at start; after a key rotation
// every row is re-sealed with the new key and opens to the same secret.
func TestSealSecretsSealsPlaintextRowsAndRotatesKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := testenv.Store(t, 4)
	// Rows written before 0009_secrets.sql: its constraints did not exist.
	_, err := st.Pool.Exec(ctx, `ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_secret_sealed,
		DROP CONSTRAINT webhook_endpoints_previous_secret_sealed`)
	require.NoError(t, err)
	plainA, plainB, previousB := NewSecret(), NewSecret(), NewSecret()
	a, bID := ids.New(ids.Webhook), ids.New(ids.Webhook)
	_, err = st.Pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, url, events, secret) VALUES ($1, 'https://example.com/a', '{*}', $2)`, a, plainA)
	require.NoError(t, err)
	_, err = st.Pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, url, events, secret, previous_secret, previous_secret_until)
		VALUES ($1, 'https://example.com/b', '{*}', $2, $3, now() + interval '1 hour')`, bID, plainB, previousB)
	require.NoError(t, err)
	_, err = st.Pool.Exec(ctx, `ALTER TABLE webhook_endpoints
		ADD CONSTRAINT webhook_endpoints_secret_sealed CHECK (secret LIKE 'enc:v1:%') NOT VALID,
		ADD CONSTRAINT webhook_endpoints_previous_secret_sealed CHECK (previous_secret IS NULL OR previous_secret LIKE 'enc:v1:%') NOT VALID`)
	require.NoError(t, err)

	oldKey, newKey := key(t), key(t)
	oldBox, err := secretbox.New(oldKey)
	require.NoError(t, err)
	n, err := SealSecrets(ctx, st.Pool, oldBox)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = SealSecrets(ctx, st.Pool, oldBox)
	require.NoError(t, err)
	require.Zero(t, n, "sealing twice changes nothing")

	stored := func(id string) (secret string, previous *string) {
		require.NoError(t, st.Pool.QueryRow(ctx, `SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1`, id).Scan(&secret, &previous))
		return
	}
	check := func(box *secretbox.Box) {
		d := db{pool: st.Pool, box: box}
		ea, err := d.endpointByID(ctx, a)
		require.NoError(t, err)
		require.Equal(t, plainA, ea.Secret)
		eb, err := d.endpointByID(ctx, bID)
		require.NoError(t, err)
		require.Equal(t, plainB, eb.Secret)
		require.Equal(t, previousB, eb.PreviousSecret)
		for _, id := range []string{a, bID} {
			s, p := stored(id)
			require.True(t, box.Current(s), s)
			if p != nil {
				require.True(t, box.Current(*p), *p)
			}
		}
	}
	check(oldBox)

	// Without the old key the rows cannot be opened: the start fails
	// rather than leave endpoints unsignable.
	lost, err := secretbox.New(newKey)
	require.NoError(t, err)
	_, err = SealSecrets(ctx, st.Pool, lost)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.ErrorContains(t, err, "WAGATE_SECRET_KEY_PREVIOUS")

	rotated, err := secretbox.New(newKey, oldKey)
	require.NoError(t, err)
	n, err = SealSecrets(ctx, st.Pool, rotated)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	newOnly, err := secretbox.New(newKey)
	require.NoError(t, err)
	check(newOnly)
}

func key(t *testing.T) []byte {
	t.Helper()
	k, err := secretbox.ParseKey(secretbox.GenerateKey())
	require.NoError(t, err)
	return k
}
