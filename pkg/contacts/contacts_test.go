package contacts_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+1 (555) 123-4567": "15551234567",
		"4915112345678":     "4915112345678",
		"+44.20.7946.0958":  "442079460958",
	} {
		got, ok := contacts.NormalizePhone(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "1234567", "0044123456789", "1555123456789012", "1555-CALL-NOW", "15551234567@s.whatsapp.net", "1+5551234567"} {
		_, ok := contacts.NormalizePhone(bad)
		require.False(t, ok, bad)
	}
}

func TestNormalizeContact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+1 555 123 4567":               "15551234567@s.whatsapp.net",
		"15551234567:12@s.whatsapp.net": "15551234567@s.whatsapp.net",
		"98765432101234@lid":            "98765432101234@lid",
	} {
		got, ok := contacts.NormalizeContact(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"120363000000000001@g.us", "abc@s.whatsapp.net", "@lid", "status@broadcast", "bob"} {
		_, ok := contacts.NormalizeContact(bad)
		require.False(t, ok, bad)
	}
}

// The cache answers per channel, and for a day.
func TestCheckCache(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	c := contacts.NewCache(rdb, keys)
	ctx := context.Background()
	in := []contacts.Check{{Phone: "15551234567", Exists: true, JID: "15551234567@s.whatsapp.net", LID: "276543215551@lid"}, {Phone: "15551230000"}}
	require.NoError(t, c.Put(ctx, "ch_a", in))

	got, err := c.Get(ctx, "ch_a", []string{"15551234567", "15551230000", "15559999999"})
	require.NoError(t, err)
	require.Equal(t, map[string]contacts.Check{"15551234567": in[0], "15551230000": in[1]}, got)
	other, err := c.Get(ctx, "ch_b", []string{"15551234567"})
	require.NoError(t, err)
	require.Empty(t, other, "another channel's checks are its own")
	ttl := rdb.TTL(ctx, keys.ContactCheck("ch_a", "15551234567")).Val()
	require.InDelta(t, contacts.CheckTTL.Seconds(), ttl.Seconds(), time.Minute.Seconds())
}

// The capability's errors keep their codes through a reply.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	for err, code := range map[error]string{
		contacts.ErrContactNotFound: contacts.CodeContactNotFound,
		contacts.ErrPictureNotFound: contacts.CodePictureNotFound,
		contacts.ErrPictureHidden:   contacts.CodePictureHidden,
		contacts.ErrInvalidImage:    contacts.CodeInvalidImage,
	} {
		e := groups.ErrorOf(contacts.ErrorOf(err))
		require.Equal(t, code, e.Code)
		require.NotZero(t, contacts.Status(code))
	}
}
