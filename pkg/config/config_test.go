package config_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsWorkOnOneMachine(t *testing.T) {
	c, err := config.Load(config.RoleGateway, env(nil))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, 64, c.Shards)
	require.Equal(t, 15*time.Second, c.LeaseTTL)
	require.Equal(t, config.Rate{N: 60, Per: time.Minute}, c.SendRate)
	require.Equal(t, "127.0.0.1:4223", c.NATSListen)
	require.Equal(t, "wagate:", c.RedisPrefix)
	require.Len(t, c.WebhookSchedule, 7)

	w, err := config.Load(config.RoleWorker, env(map[string]string{"WAGATE_NATS_URL": "nats://127.0.0.1:4222", "WAGATE_NATS_CREDS": "/etc/wagate/worker.creds", "WAGATE_MEDIA_URL": "s3://media"}))
	require.NoError(t, err)
	require.Equal(t, ":8082", w.HTTPAddr)
}

func TestEmptyNATSListenMeansInProcess(t *testing.T) {
	c, err := config.Load(config.RoleGateway, env(map[string]string{"WAGATE_NATS_LISTEN": ""}))
	require.NoError(t, err)
	require.Equal(t, "", c.NATSListen)
}

func TestInvalidSettingsNameTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"WAGATE_SHARDS":                "0",
		"WAGATE_LEASE_TTL":             "soon",
		"WAGATE_SEND_RATE":             "60 per minute",
		"WAGATE_DRIVER":                "baileys",
		"WAGATE_SIM_TIME_SCALE":        "-1",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "maybe",
		"WAGATE_NATS_PREFIX":           "a.b",
		"WAGATE_DATABASE_URL":          "mysql://x",
		"WAGATE_WEBHOOK_SCHEDULE":      "5s,never",
		"WAGATE_LOG_LEVEL":             "loud",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(config.RoleGateway, env(map[string]string{name: value}))
			require.Error(t, err)
			require.Contains(t, err.Error(), name)
			require.Contains(t, err.Error(), "expected")
		})
	}
}

func TestSplitBinariesRequireNATS(t *testing.T) {
	_, err := config.Load(config.RoleWorker, env(nil))
	require.ErrorContains(t, err, "WAGATE_NATS_URL")
	_, err = config.Load(config.RoleAPI, env(map[string]string{"WAGATE_NATS_URL": "nats://x", "WAGATE_NATS_CREDS": "api.creds"}))
	require.ErrorContains(t, err, "WAGATE_ADMIN_TOKEN")
}

// The api and dispatcher share the key of secrets at rest, so neither may
// generate its own; keys are checked at start.
func TestSecretKey(t *testing.T) {
	split := map[string]string{"WAGATE_NATS_URL": "nats://x", "WAGATE_NATS_CREDS": "d.creds", "WAGATE_MEDIA_URL": "/srv/media"}
	_, err := config.Load(config.RoleDispatcher, env(split))
	require.ErrorContains(t, err, "WAGATE_SECRET_KEY")
	_, err = config.Load(config.RoleWorker, env(split))
	require.NoError(t, err, "workers hold no secrets at rest")
	c, err := config.Load(config.RoleGateway, env(nil))
	require.NoError(t, err)
	require.Empty(t, c.SecretKey, "the gateway generates one")

	_, err = config.Load(config.RoleGateway, env(map[string]string{"WAGATE_SECRET_KEY": "short"}))
	require.ErrorContains(t, err, "WAGATE_SECRET_KEY")
	_, err = config.Load(config.RoleGateway, env(map[string]string{"WAGATE_SECRET_KEY_PREVIOUS": "short"}))
	require.ErrorContains(t, err, "WAGATE_SECRET_KEY_PREVIOUS")
	c, err = config.Load(config.RoleGateway, env(map[string]string{
		"WAGATE_SECRET_KEY":          strings.Repeat("ab", 32),
		"WAGATE_SECRET_KEY_PREVIOUS": strings.Repeat("cd", 32) + ", " + strings.Repeat("ef", 32),
	}))
	require.NoError(t, err)
	require.Len(t, c.SecretKeyPrevious, 2)
}

// NATS is never open: a binary given a NATS URL needs exactly one kind of
// credential.
func TestNATSURLRequiresOneCredential(t *testing.T) {
	url := map[string]string{"WAGATE_NATS_URL": "nats://x", "WAGATE_MEDIA_URL": "s3://media"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"WAGATE_NATS_URL": "nats://x", "WAGATE_MEDIA_URL": "s3://media"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	_, err := config.Load(config.RoleWorker, env(url))
	require.ErrorContains(t, err, "WAGATE_NATS_CREDS")
	_, err = config.Load(config.RoleGateway, env(url))
	require.ErrorContains(t, err, "NATS needs credentials")
	_, err = config.Load(config.RoleWorker, env(with("WAGATE_NATS_CREDS", "a.creds", "WAGATE_NATS_NKEY", "seed")))
	require.ErrorContains(t, err, "only one")
	_, err = config.Load(config.RoleWorker, env(with("WAGATE_NATS_USER", "w")))
	require.ErrorContains(t, err, "WAGATE_NATS_PASSWORD")
	_, err = config.Load(config.RoleWorker, env(with("WAGATE_NATS_NKEY", "seed", "WAGATE_NATS_TLS_CERT", "c.pem")))
	require.ErrorContains(t, err, "WAGATE_NATS_TLS_KEY")
	c, err := config.Load(config.RoleWorker, env(with("WAGATE_NATS_USER", "w", "WAGATE_NATS_PASSWORD", "p", "WAGATE_NATS_TLS_CA", "ca.pem")))
	require.NoError(t, err)
	require.Equal(t, "ca.pem", c.NATSTLSCA)
}

// A split api and worker must name the media store they share: each one's
// own folder would leave the api answering 404 for what a worker stored.
// The dispatcher and `api migrate` never touch media files.
func TestSplitAPIAndWorkerShareAMediaStore(t *testing.T) {
	split := map[string]string{"WAGATE_NATS_URL": "nats://x", "WAGATE_NATS_CREDS": "a.creds", "WAGATE_ADMIN_TOKEN": "an-admin-token-of-32-characters", "WAGATE_SECRET_KEY": strings.Repeat("ab", 32)}
	for _, role := range []config.Role{config.RoleAPI, config.RoleWorker} {
		_, err := config.Load(role, env(split))
		require.ErrorContains(t, err, "WAGATE_MEDIA_URL", role)
		require.ErrorContains(t, err, "s3://bucket/prefix", role)
		require.True(t, role.KeepsMedia())
	}
	for _, role := range []config.Role{config.RoleDispatcher, config.RoleMigrate} {
		_, err := config.Load(role, env(split))
		require.NoError(t, err, role)
		require.False(t, role.KeepsMedia(), role)
	}
	c, err := config.Load(config.RoleGateway, env(nil))
	require.NoError(t, err)
	require.Empty(t, c.MediaURL, "the gateway keeps media under WAGATE_DATA_DIR")
	require.True(t, config.RoleGateway.KeepsMedia())
	for _, url := range []string{"s3://wagate-media/prod", "file:///srv/media", "/srv/media"} {
		split["WAGATE_MEDIA_URL"] = url
		c, err := config.Load(config.RoleWorker, env(split))
		require.NoError(t, err, url)
		require.Equal(t, url, c.MediaURL)
	}
}

func TestParseRate(t *testing.T) {
	r, err := config.ParseRate("30/s")
	require.NoError(t, err)
	require.Equal(t, "30/s", r.String())
	r, err = config.ParseRate("0")
	require.NoError(t, err)
	require.True(t, r.Unlimited())
}

// The README's configuration table is the documentation of record: it must
// list exactly the variables wagate reads.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var documented []string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `WAGATE_") {
			documented = append(documented, strings.Trim(strings.Split(line, "|")[1], " `"))
		}
	}
	var read []string
	for _, v := range config.Vars {
		read = append(read, v.Name)
	}
	require.ElementsMatch(t, read, documented)
}

func TestDefaultWorkerIDIsTheHostNameWithASuffixUniquePerProcess(t *testing.T) {
	h, _ := os.Hostname()
	a, b := config.DefaultWorkerID(), config.DefaultWorkerID()
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, strings.ReplaceAll(h, ":", "-")+"-"), a)
	require.NotContains(t, a, ":")
}
