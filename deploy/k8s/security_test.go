package k8s_test

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// binaryRoles is the NATS role each binary connects as (`api migrate` as
// the api, which may create streams).
var binaryRoles = map[string]string{"/app/api": "api", "/app/worker": "worker", "/app/dispatcher": "dispatcher"}

// Every wagate container connects to NATS with its own role's credential,
// from a Secret volume holding that file alone; every role shares the
// key of secrets at rest from the Secret.
func TestNATSCredentialsPerRole(t *testing.T) {
	t.Parallel()
	for _, o := range overlays {
		t.Run(o.dir, func(t *testing.T) {
			t.Parallel()
			m := render(t, o.dir)
			for _, w := range m.workloads() {
				for bin, c := range wagateContainers(w) {
					role := binaryRoles[bin]
					creds := envVar(c, "WAGATE_NATS_CREDS")
					if !assert.NotNil(t, creds, "%s: no WAGATE_NATS_CREDS", w) {
						continue
					}
					assert.Equal(t, role+".creds", path.Base(creds.Value), "%s connects as %s", w, role)
					vol := mountedSecret(t, w.template, c, path.Dir(creds.Value))
					if assert.NotNil(t, vol, "%s: %s is not a mounted Secret", w, path.Dir(creds.Value)) {
						if assert.Len(t, vol.Items, 1, "%s mounts one credential only", w) {
							assert.Equal(t, role+".creds", vol.Items[0].Key, w.String())
						}
						if s := m.secret(vol.SecretName); s != nil && o.dir == "overlays/dev" {
							// The example credential is signed by an account the
							// example NATS configuration trusts.
							issuer := credsIssuer(t, s.StringData[role+".creds"])
							assert.Contains(t, m.configMap("nats-config").Data["nats.conf"], issuer+": ", "%s: creds of an account the dev NATS trusts", w)
						}
					}
					// Every role opens sealed values: api and dispatcher webhook
					// secrets, the worker proxy credentials, migrate seals old rows.
					key := envVar(c, "WAGATE_SECRET_KEY")
					if assert.NotNil(t, key, "%s: no WAGATE_SECRET_KEY", w) {
						assert.NotNil(t, key.ValueFrom, "%s: WAGATE_SECRET_KEY comes from a Secret", w)
					}
				}
			}
			// A NATS server of the overlay trusts wagate's operator and
			// accounts only (no users, no open access).
			for _, s := range m.statefulSets {
				if s.Spec.Template.Labels["app.kubernetes.io/name"] != "nats" {
					continue
				}
				cm := m.configMap("nats-config")
				require.NotNil(t, cm)
				conf := cm.Data["nats.conf"]
				for _, want := range []string{"operator:", "system_account:", "resolver: MEMORY", "resolver_preload"} {
					assert.Contains(t, conf, want)
				}
				assert.NotContains(t, conf, "authorization", "no user/password block besides the operator")
				assert.NotRegexp(t, `\bS[OAU][A-Z2-7]{56}\b`, conf, "the server configuration holds no seed")
			}
		})
	}
}

// credsIssuer returns the account that signed the user JWT of a .creds file.
func credsIssuer(t *testing.T, creds string) string {
	t.Helper()
	_, rest, ok := strings.Cut(creds, "-----BEGIN NATS USER JWT-----")
	require.True(t, ok, "not a .creds file")
	token, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct {
		Issuer string `json:"iss"`
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	require.NotEmpty(t, claims.Issuer)
	return claims.Issuer
}

// mountedSecret returns the Secret volume mounted at dir in c.
func mountedSecret(t *testing.T, tmpl *corev1.PodTemplateSpec, c *corev1.Container, dir string) *corev1.SecretVolumeSource {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		for _, v := range tmpl.Spec.Volumes {
			if v.Name == vm.Name {
				return v.Secret
			}
		}
	}
	return nil
}

// The backing services an overlay runs accept connections from wagate's
// pods only: a NetworkPolicy selects each one and lets in nothing but pods
// labelled app.kubernetes.io/name=wagate (and their own peers).
func TestBackingServicesAcceptWagatePodsOnly(t *testing.T) {
	t.Parallel()
	for _, o := range overlays {
		t.Run(o.dir, func(t *testing.T) {
			t.Parallel()
			m := render(t, o.dir)
			backing := map[string]map[string]string{}
			for _, s := range m.statefulSets {
				backing[s.Name] = s.Spec.Template.Labels
			}
			if o.dir == "overlays/prod" {
				backing["wagate-db (CloudNativePG)"] = map[string]string{"cnpg.io/cluster": "wagate-db"}
			}
			for name, labels := range backing {
				var policies []*networkingv1.NetworkPolicy
				for _, np := range m.networkPolicies {
					if slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && selects(t, &np.Spec.PodSelector, labels) {
						policies = append(policies, np)
					}
				}
				if !assert.NotEmpty(t, policies, "no ingress NetworkPolicy selects %s", name) {
					continue
				}
				for _, np := range policies {
					for _, r := range np.Spec.Ingress {
						assert.NotEmpty(t, r.From, "%s: ingress from anywhere", np.Name)
						for _, p := range r.From {
							require.NotNil(t, p.PodSelector, "%s: a peer without a pod selector (a whole namespace or address block)", np.Name)
							who := p.PodSelector.MatchLabels
							ok := who["app.kubernetes.io/name"] == "wagate" || selects(t, p.PodSelector, labels) ||
								(p.NamespaceSelector != nil && strings.HasPrefix(p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"], "cnpg"))
							assert.True(t, ok, "%s lets in %v", np.Name, who)
						}
					}
				}
			}
		})
	}
}

// Production connects to Postgres with TLS, verifying the server's
// certificate and name, and to NATS with TLS.
func TestProdTransportSecurity(t *testing.T) {
	t.Parallel()
	m := render(t, "overlays/prod")
	assert.True(t, strings.HasPrefix(configValue(t, m, "WAGATE_NATS_URL"), "tls://"))
	for _, w := range m.workloads() {
		for _, c := range wagateContainers(w) {
			mode := envVar(c, "PGSSLMODE")
			url := envVar(c, "WAGATE_DATABASE_URL")
			verified := (mode != nil && mode.Value == "verify-full") ||
				(url != nil && strings.Contains(url.Value, "sslmode=verify-full"))
			assert.True(t, verified, "%s: database connection without sslmode=verify-full", w)
			if mode != nil {
				root := envVar(c, "PGSSLROOTCERT")
				if assert.NotNil(t, root, w.String()) {
					assert.NotNil(t, mountedSecret(t, w.template, c, path.Dir(root.Value)), "%s: the CA is a mounted Secret", w)
				}
			}
			ca := envVar(c, "WAGATE_NATS_TLS_CA")
			if assert.NotNil(t, ca, "%s: NATS server not verified", w) {
				assert.NotNil(t, mountedSecret(t, w.template, c, path.Dir(ca.Value)), "%s: the NATS CA is a mounted Secret", w)
			}
		}
	}
}
