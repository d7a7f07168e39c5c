package k8s_test

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmePath is the repository's README.md, seen from deploy/k8s (go test
// runs in the package directory).
const readmePath = "../../README.md"

// configVariables are the configuration variables of wagate, in the order of
// the configuration table in the repository's README.md. Keep the two in
// step: the manifests may use a variable only when both list it, so that the
// tests also guard the manifests while the README is being written.
var configVariables = []string{
	"WAGATE_HTTP_ADDR",
	"WAGATE_DATABASE_URL",
	"WAGATE_REDIS_URL",
	"WAGATE_REDIS_PREFIX",
	"WAGATE_NATS_URL",
	"WAGATE_NATS_LISTEN",
	"WAGATE_NATS_PREFIX",
	"WAGATE_NATS_CREDS",
	"WAGATE_NATS_USER",
	"WAGATE_NATS_PASSWORD",
	"WAGATE_NATS_NKEY",
	"WAGATE_NATS_TLS_CA",
	"WAGATE_NATS_TLS_CERT",
	"WAGATE_NATS_TLS_KEY",
	"WAGATE_NATS_REPLICAS",
	"WAGATE_DATA_DIR",
	"WAGATE_ADMIN_TOKEN",
	"WAGATE_ADMIN_TOKENS",
	"WAGATE_SECRET_KEY",
	"WAGATE_SECRET_KEY_PREVIOUS",
	"WAGATE_DRIVER",
	"WAGATE_SIM_TIME_SCALE",
	"WAGATE_SIM_QR_TIME_SCALE",
	"WAGATE_SHARDS",
	"WAGATE_LEASE_TTL",
	"WAGATE_SEND_RATE",
	"WAGATE_WARMUP_DAYS",
	"WAGATE_WEBHOOK_ALLOW_PRIVATE",
	"WAGATE_LOG_LEVEL",
	"WAGATE_LOG_FORMAT",
	"WAGATE_WORKER_ID",
	"WAGATE_EVENT_MAX_AGE",
	"WAGATE_WEBHOOK_SCHEDULE",
	"WAGATE_MEDIA_URL",
	"WAGATE_S3_ENDPOINT",
	"WAGATE_S3_REGION",
	"WAGATE_S3_ACCESS_KEY",
	"WAGATE_S3_SECRET_KEY",
	"WAGATE_MEDIA_RETENTION",
	"WAGATE_MEDIA_DOWNLOADS",
}

// gatewayOnly are read by cmd/gateway alone (the embedded NATS server); the
// split binaries on Kubernetes never need them.
var gatewayOnly = map[string]bool{
	"WAGATE_NATS_LISTEN": true,
	"WAGATE_DATA_DIR":    true,
}

// configRow matches a row of a Markdown table whose first cell starts with a
// variable in backticks: "| `WAGATE_HTTP_ADDR` | ... |".
var configRow = regexp.MustCompile("^\\|\\s*`(WAGATE_[A-Z0-9_]+)`")

// parseConfigTable returns the variables named in the first column of the
// configuration table of a README.
func parseConfigTable(readme []byte) map[string]bool {
	vars := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		if m := configRow.FindStringSubmatch(sc.Text()); m != nil {
			vars[m[1]] = true
		}
	}
	return vars
}

// documentedVariables returns the variables the manifests may use: those of
// configVariables that the README's table lists too. Without a README (it is
// being written) configVariables alone decide.
func documentedVariables(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for _, v := range configVariables {
		vars[v] = true
	}
	readme, err := os.ReadFile(readmePath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Logf("%s does not exist yet: checking against configVariables alone", readmePath)
		return vars
	}
	require.NoError(t, err)
	table := parseConfigTable(readme)
	require.NotEmpty(t, table, "%s has no configuration table (rows like \"| `WAGATE_HTTP_ADDR` | ... |\")", readmePath)
	for v := range vars {
		if !table[v] {
			t.Logf("%s is in configVariables but not in the README's configuration table", v)
			delete(vars, v)
		}
	}
	for v := range table {
		if !vars[v] {
			t.Logf("%s is in the README's configuration table but not in configVariables", v)
		}
	}
	return vars
}

func TestParseConfigTable(t *testing.T) {
	t.Parallel()
	readme := []byte("# wagate\n\n" +
		"| variable | default |\n" +
		"|---|---|\n" +
		"| `WAGATE_HTTP_ADDR` | `:8080` |\n" +
		"|`WAGATE_SHARDS`|`64`|\n" +
		"| `WAGATE_LOG_LEVEL` (debug, info) | `info` |\n" +
		"| text mentioning `WAGATE_DRIVER` | x |\n" +
		"Set `WAGATE_REDIS_URL` to ...\n")
	require.Equal(t, map[string]bool{
		"WAGATE_HTTP_ADDR": true,
		"WAGATE_SHARDS":    true,
		"WAGATE_LOG_LEVEL": true,
	}, parseConfigTable(readme))
}
