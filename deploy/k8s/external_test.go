package k8s_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// readYAML reads a file that no kustomization renders (Helm values, objects
// of operators whose CRDs the tests do not have).
func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v), file)
}

// The prod overlay depends on names that these files define: keep them in
// step.
func TestProdExternalServices(t *testing.T) {
	t.Parallel()
	prod := render(t, "overlays/prod")

	t.Run("NATS Helm values run a JetStream cluster that WAGATE_NATS_URL names", func(t *testing.T) {
		var v struct {
			Config struct {
				Cluster struct {
					Enabled  bool `json:"enabled"`
					Replicas int  `json:"replicas"`
				} `json:"cluster"`
				JetStream struct {
					Enabled bool `json:"enabled"`
				} `json:"jetstream"`
			} `json:"config"`
		}
		readYAML(t, "overlays/prod/external/nats-values.yaml", &v)
		assert.True(t, v.Config.Cluster.Enabled)
		assert.GreaterOrEqual(t, v.Config.Cluster.Replicas, 3, "a JetStream cluster survives one node down from 3 up")
		assert.Equal(t, 1, v.Config.Cluster.Replicas%2, "JetStream's Raft groups want an odd node count")
		assert.True(t, v.Config.JetStream.Enabled)
		// Release "nats" in namespace "nats", as the values file installs it.
		assert.Equal(t, "tls://nats.nats.svc.cluster.local:4222", configValue(t, prod, "WAGATE_NATS_URL"))
	})

	t.Run("CloudNativePG cluster provides the Secret and pods the overlay uses", func(t *testing.T) {
		var c struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Instances int `json:"instances"`
				Bootstrap struct {
					InitDB struct {
						Database string `json:"database"`
						Owner    string `json:"owner"`
					} `json:"initdb"`
				} `json:"bootstrap"`
			} `json:"spec"`
		}
		readYAML(t, "overlays/prod/external/cnpg-cluster.yaml", &c)
		assert.Equal(t, "postgresql.cnpg.io/v1", c.APIVersion)
		assert.Equal(t, "Cluster", c.Kind)
		assert.GreaterOrEqual(t, c.Spec.Instances, 2)
		assert.Equal(t, "wagate", c.Spec.Bootstrap.InitDB.Database)

		api := prod.deployment("api").Spec.Template.Spec.Containers[0]
		url := envVar(&api, "WAGATE_DATABASE_URL")
		require.NotNil(t, url)
		require.NotNil(t, url.ValueFrom.SecretKeyRef)
		// CloudNativePG names the application Secret <cluster>-app, with the
		// connection string under "uri".
		assert.Equal(t, c.Metadata.Name+"-app", url.ValueFrom.SecretKeyRef.Name)
		assert.Equal(t, "uri", url.ValueFrom.SecretKeyRef.Key)

		reachable := false
		for _, np := range prod.networkPolicies {
			for _, r := range np.Spec.Egress {
				for _, p := range r.To {
					if p.PodSelector != nil && p.PodSelector.MatchLabels["cnpg.io/cluster"] == c.Metadata.Name {
						reachable = true
					}
				}
			}
		}
		assert.True(t, reachable, "the egress policy lets dispatchers and workers reach the %s instances", c.Metadata.Name)
	})

	t.Run("prometheus-adapter serves the metric the worker HPA reads", func(t *testing.T) {
		var v struct {
			Rules struct {
				Custom []struct {
					SeriesQuery string `json:"seriesQuery"`
					Name        struct {
						As string `json:"as"`
					} `json:"name"`
				} `json:"custom"`
			} `json:"rules"`
		}
		readYAML(t, "components/worker-sessions-hpa/prometheus-adapter-values.yaml", &v)
		require.Len(t, v.Rules.Custom, 1)
		assert.Contains(t, v.Rules.Custom[0].SeriesQuery, "wagate_worker_sessions")
		assert.Equal(t, "wagate_worker_sessions", v.Rules.Custom[0].Name.As)
	})
}
