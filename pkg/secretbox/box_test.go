package secretbox_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/secretbox"
)

func key(t *testing.T) []byte {
	t.Helper()
	k, err := secretbox.ParseKey(secretbox.GenerateKey())
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTripHidesThePlaintext(t *testing.T) {
	b, err := secretbox.New(key(t))
	require.NoError(t, err)
	const secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LTAxMjM0NQ"
	s1, err := b.Seal(secret)
	require.NoError(t, err)
	s2, err := b.Seal(secret)
	require.NoError(t, err)
	require.NotEqual(t, s1, s2, "a fresh nonce per seal")
	require.NotContains(t, s1, "whsec_")
	require.True(t, secretbox.Sealed(s1))
	require.True(t, b.Current(s1))
	got, err := b.Open(s1)
	require.NoError(t, err)
	require.Equal(t, secret, got)
}

func TestOpenRefusesPlaintextTamperingAndUnknownKeys(t *testing.T) {
	b, err := secretbox.New(key(t))
	require.NoError(t, err)
	_, err = b.Open("whsec_plain")
	require.ErrorIs(t, err, secretbox.ErrNotSealed)

	s, err := b.Seal("whsec_x")
	require.NoError(t, err)
	// Any character changed is refused: one of the tag's, and the last
	// one's unused low bit (which a lenient decoder ignores).
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	change := func(i int, xor int) string {
		v := strings.IndexByte(alphabet, s[i])
		require.GreaterOrEqual(t, v, 0)
		return s[:i] + string(alphabet[v^xor]) + s[i+1:]
	}
	for _, tampered := range []string{change(len(s)-5, 0b100000), change(len(s)-1, 1)} {
		require.NotEqual(t, s, tampered)
		_, err = b.Open(tampered)
		require.ErrorIs(t, err, secretbox.ErrCorrupt, "tampered %s", tampered)
	}
	_, err = b.Open(secretbox.Prefix + "nokeyid")
	require.ErrorIs(t, err, secretbox.ErrCorrupt)

	other, err := secretbox.New(key(t))
	require.NoError(t, err)
	_, err = other.Open(s)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
}

// Rotation: a box with the new key and the old one as previous opens
// values of both and seals with the new key only.
func TestRotationOpensOldValuesAndSealsWithTheNewKey(t *testing.T) {
	oldKey, newKey := key(t), key(t)
	old, err := secretbox.New(oldKey)
	require.NoError(t, err)
	sealedOld, err := old.Seal("whsec_old")
	require.NoError(t, err)

	rotated, err := secretbox.New(newKey, oldKey)
	require.NoError(t, err)
	require.False(t, rotated.Current(sealedOld), "a value of the previous key is due for re-sealing")
	got, err := rotated.Open(sealedOld)
	require.NoError(t, err)
	require.Equal(t, "whsec_old", got)
	sealedNew, err := rotated.Seal("whsec_new")
	require.NoError(t, err)
	require.True(t, rotated.Current(sealedNew))
	_, err = old.Open(sealedNew)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
}

func TestParseKey(t *testing.T) {
	for name, s := range map[string]string{
		"hex":        strings.Repeat("ab", 32),
		"base64":     "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
		"base64 raw": "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s",
	} {
		t.Run(name, func(t *testing.T) {
			k, err := secretbox.ParseKey(s)
			require.NoError(t, err)
			require.Len(t, k, secretbox.KeySize)
		})
	}
	for _, bad := range []string{"", "short", strings.Repeat("ab", 16), strings.Repeat("zz", 32)} {
		_, err := secretbox.ParseKey(bad)
		require.Error(t, err, bad)
	}
	_, err := secretbox.New([]byte("16 bytes is AES1"))
	require.Error(t, err)
}
