package k8s_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
)

// The external NATS of the prod overlay admits clients (4222) only from
// wagate's pods in namespace wagate, and nothing from everywhere.
func TestProdExternalNATSNetworkPolicy(t *testing.T) {
	t.Parallel()
	var np networkingv1.NetworkPolicy
	readYAML(t, "overlays/prod/external/nats-networkpolicy.yaml", &np)
	assert.Equal(t, "NetworkPolicy", np.Kind)
	assert.Equal(t, "nats", np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"])
	assert.Contains(t, np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
	require.NotEmpty(t, np.Spec.Ingress)
	clientRules := 0
	for _, r := range np.Spec.Ingress {
		require.NotEmpty(t, r.From, "every rule names its peers (none means everyone)")
		require.NotEmpty(t, r.Ports, "every rule names its ports")
		for _, p := range r.Ports {
			if p.Port == nil || p.Port.IntValue() != 4222 {
				continue
			}
			clientRules++
			for _, f := range r.From {
				require.NotNil(t, f.NamespaceSelector, "clients come from a named namespace")
				require.NotNil(t, f.PodSelector, "clients are wagate's pods")
				assert.Equal(t, "wagate", f.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
				assert.Equal(t, "wagate", f.PodSelector.MatchLabels["app.kubernetes.io/name"])
				assert.Nil(t, f.IPBlock)
			}
		}
	}
	assert.Equal(t, 1, clientRules, "one rule admits NATS clients")
}

// The external NATS includes auth.conf from the mounted Secret nats-auth
// (the chart's configuration lives in /etc/nats-config, so ../nats-auth is
// /etc/nats-auth).
func TestProdExternalNATSAuthInclude(t *testing.T) {
	t.Parallel()
	var v struct {
		Config struct {
			Merge map[string]any `json:"merge"`
		} `json:"config"`
		Container struct {
			Merge struct {
				VolumeMounts []struct {
					Name      string `json:"name"`
					MountPath string `json:"mountPath"`
					ReadOnly  bool   `json:"readOnly"`
				} `json:"volumeMounts"`
			} `json:"merge"`
		} `json:"container"`
		PodTemplate struct {
			Merge struct {
				Spec struct {
					Volumes []struct {
						Name   string `json:"name"`
						Secret struct {
							SecretName string `json:"secretName"`
						} `json:"secret"`
					} `json:"volumes"`
				} `json:"spec"`
			} `json:"merge"`
		} `json:"podTemplate"`
	}
	readYAML(t, "overlays/prod/external/nats-values.yaml", &v)
	assert.Equal(t, "../nats-auth/auth.conf", v.Config.Merge["$include"])
	mounted := false
	for _, m := range v.Container.Merge.VolumeMounts {
		if m.Name == "nats-auth" && m.MountPath == "/etc/nats-auth" && m.ReadOnly {
			mounted = true
		}
	}
	assert.True(t, mounted, "the nats-auth volume is mounted read-only at /etc/nats-auth")
	fromSecret := false
	for _, vol := range v.PodTemplate.Merge.Spec.Volumes {
		if vol.Name == "nats-auth" && vol.Secret.SecretName == "nats-auth" {
			fromSecret = true
		}
	}
	assert.True(t, fromSecret, "the nats-auth volume is the Secret nats-auth")
}
