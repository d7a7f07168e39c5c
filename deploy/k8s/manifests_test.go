package k8s_test

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// overlay is a kustomization to render and what it must look like.
type overlay struct {
	dir string
	// autoscaled: api, worker and dispatcher have HPAs, and their Deployments
	// leave spec.replicas to them. Otherwise replicas is fixed.
	autoscaled bool
	replicas   int32
	// sessionsMetric: the worker HPA also scales on wagate_worker_sessions.
	sessionsMetric bool
	// serviceMonitor: the Prometheus Operator component is included.
	serviceMonitor bool
	// pinnedImage: the wagate image has a registry and a release tag.
	pinnedImage bool
	// externalSecrets are referenced but created outside the kustomization.
	externalSecrets []string
}

var overlays = []overlay{
	{dir: "base", autoscaled: true},
	{dir: "overlays/dev", replicas: 1},
	{
		dir: "overlays/prod", autoscaled: true, sessionsMetric: true, serviceMonitor: true,
		pinnedImage: true, externalSecrets: []string{"wagate-secrets", "wagate-db-app", "wagate-nats-creds", "nats-ca", "wagate-db-ca"},
	},
}

// binaryPorts are the default HTTP ports of the binaries (WAGATE_HTTP_ADDR).
var binaryPorts = map[string]int32{
	"/app/api":        8080,
	"/app/dispatcher": 8081,
	"/app/worker":     8082,
}

// shardHandOff is how long a worker takes to release its shards on SIGTERM.
const shardHandOff = 20 * time.Second

func TestOverlays(t *testing.T) {
	t.Parallel()
	documented := documentedVariables(t)
	for _, o := range overlays {
		t.Run(o.dir, func(t *testing.T) {
			t.Parallel()
			m := render(t, o.dir)
			checks := []struct {
				name  string
				check func(*testing.T, overlay, *manifests)
			}{
				{"deployments run api, worker and dispatcher", checkComponents},
				{"probes on /healthz and /readyz", checkProbes},
				{"ports match the binaries' defaults", checkPorts},
				{"services reach container ports", checkServices},
				{"resources requested and limited", checkResources},
				{"pods are non-root, read-only and without capabilities", checkSecurity},
				{"one disruption budget per deployment", checkPDBs},
				{"topology spread", checkTopologySpread},
				{"grace periods outlast shutdown", checkGracePeriods},
				{"replicas and autoscaling", checkAutoscaling},
				{"migration job", checkMigrationJob},
				{"ingress routes streams to the dispatcher", checkIngress},
				{"egress reaches the internet, not private ranges", checkEgress},
				{"references resolve", checkReferences},
				{"configuration values parse", checkConfigValues},
				{"images", checkImages},
				{"metrics are scraped", checkMetrics},
				{"environment variables are documented", func(t *testing.T, o overlay, m *manifests) {
					checkEnvDocumented(t, m, documented)
				}},
			}
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.check(t, o, m) })
			}
		})
	}
}

// wagateContainers returns the containers that run a wagate binary, with
// the binary.
func wagateContainers(w workload) map[string]*corev1.Container {
	cs := map[string]*corev1.Container{}
	for i := range w.template.Spec.Containers {
		c := &w.template.Spec.Containers[i]
		if len(c.Command) > 0 && strings.HasPrefix(c.Command[0], "/app/") {
			cs[c.Command[0]] = c
		}
	}
	return cs
}

func allContainers(spec *corev1.PodSpec) []*corev1.Container {
	var cs []*corev1.Container
	for i := range spec.InitContainers {
		cs = append(cs, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		cs = append(cs, &spec.Containers[i])
	}
	return cs
}

// is reports whether an optional field is set to want.
func is[T comparable](p *T, want T) bool { return p != nil && *p == want }

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func checkComponents(t *testing.T, _ overlay, m *manifests) {
	for component, binary := range map[string]string{
		"api": "/app/api", "worker": "/app/worker", "dispatcher": "/app/dispatcher",
	} {
		d := m.deployment(component)
		require.NotNil(t, d, "no Deployment for %s", component)
		require.Len(t, d.Spec.Template.Spec.Containers, 1, d.Name)
		assert.Equal(t, []string{binary}, d.Spec.Template.Spec.Containers[0].Command, d.Name)
	}
	assert.Len(t, m.deployments, 3, "cmd/gateway (all in one) is not for Kubernetes")
}

// probePort resolves a probe's port to a container port number.
func probePort(t *testing.T, c *corev1.Container, port intstr.IntOrString) int32 {
	t.Helper()
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	t.Errorf("container %s has no port named %q", c.Name, port.StrVal)
	return 0
}

func checkProbes(t *testing.T, _ overlay, m *manifests) {
	for _, d := range m.deployments {
		for _, c := range allContainers(&d.Spec.Template.Spec) {
			want := binaryPorts[c.Command[0]]
			for _, p := range []struct {
				kind  string
				probe *corev1.Probe
				path  string
			}{
				{"liveness", c.LivenessProbe, "/healthz"},
				{"readiness", c.ReadinessProbe, "/readyz"},
				{"startup", c.StartupProbe, "/healthz"},
			} {
				if p.probe == nil {
					if p.kind != "startup" {
						t.Errorf("%s/%s: no %s probe", d.Name, c.Name, p.kind)
					}
					continue
				}
				if !assert.NotNil(t, p.probe.HTTPGet, "%s/%s: %s probe is not HTTP", d.Name, c.Name, p.kind) {
					continue
				}
				assert.Equal(t, p.path, p.probe.HTTPGet.Path, "%s/%s: %s probe", d.Name, c.Name, p.kind)
				assert.Equal(t, want, probePort(t, c, p.probe.HTTPGet.Port), "%s/%s: %s probe port", d.Name, c.Name, p.kind)
			}
		}
	}
	for _, s := range m.statefulSets {
		for _, c := range s.Spec.Template.Spec.Containers {
			assert.NotNil(t, c.ReadinessProbe, "%s/%s: no readiness probe", s.Name, c.Name)
			assert.NotNil(t, c.LivenessProbe, "%s/%s: no liveness probe", s.Name, c.Name)
		}
	}
}

func checkPorts(t *testing.T, _ overlay, m *manifests) {
	for _, w := range m.workloads() {
		for binary, c := range wagateContainers(w) {
			want, serves := binaryPorts[binary]
			if w.kind == "Job" {
				assert.Empty(t, c.Ports, "%s serves nothing", w)
				continue
			}
			require.True(t, serves, "%s runs %s, which is not a server binary", w, binary)
			require.Len(t, c.Ports, 1, "%s: one port, the binary's HTTP port", w)
			assert.Equal(t, "http", c.Ports[0].Name, w.String())
			assert.Equal(t, want, c.Ports[0].ContainerPort, "%s: %s listens on %d by default", w, binary, want)
			if addr := envVar(c, "WAGATE_HTTP_ADDR"); addr != nil {
				assert.Equal(t, fmt.Sprintf(":%d", want), addr.Value, "%s: WAGATE_HTTP_ADDR", w)
			}
		}
	}
}

func checkServices(t *testing.T, _ overlay, m *manifests) {
	for _, s := range m.services {
		var pods []workload
		for _, w := range m.workloads() {
			if w.kind != "Job" && len(s.Spec.Selector) > 0 && selects(t, metaSelector(s.Spec.Selector), w.template.Labels) {
				pods = append(pods, w)
			}
		}
		require.Len(t, pods, 1, "Service %s selects one workload", s.Name)
		w := pods[0]
		for _, sp := range s.Spec.Ports {
			found := false
			for _, c := range w.template.Spec.Containers {
				for _, cp := range c.Ports {
					if sp.TargetPort.StrVal == cp.Name || sp.TargetPort.IntVal == cp.ContainerPort {
						found = true
						assert.Equal(t, cp.ContainerPort, sp.Port, "Service %s exposes %s on the container's port", s.Name, cp.Name)
					}
				}
			}
			assert.True(t, found, "Service %s: port %s has no container port %s in %s", s.Name, sp.Name, sp.TargetPort.String(), w)
		}
	}
	for _, w := range m.workloads() {
		if w.kind == "StatefulSet" {
			s := m.service(w.name)
			assert.NotNil(t, s, "StatefulSet %s has no Service of its name", w.name)
		}
	}
}

// serviceFor returns the Service in front of a wagate component.
func serviceFor(t *testing.T, m *manifests, component string) *corev1.Service {
	t.Helper()
	for _, s := range m.services {
		if selects(t, metaSelector(s.Spec.Selector), m.deployment(component).Spec.Template.Labels) {
			return s
		}
	}
	t.Fatalf("no Service selects the %s", component)
	return nil
}

func checkResources(t *testing.T, _ overlay, m *manifests) {
	for _, w := range m.workloads() {
		for _, c := range allContainers(&w.template.Spec) {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[name]
				lim, hasLim := c.Resources.Limits[name]
				if !assert.True(t, hasReq, "%s/%s: no %s request", w, c.Name, name) ||
					!assert.True(t, hasLim, "%s/%s: no %s limit", w, c.Name, name) {
					continue
				}
				assert.True(t, req.Sign() > 0, "%s/%s: %s request is zero", w, c.Name, name)
				assert.True(t, req.Cmp(lim) <= 0, "%s/%s: %s request %s above limit %s", w, c.Name, name, req.String(), lim.String())
			}
			if v := envVar(c, "GOMEMLIMIT"); v != nil {
				soft := goMemLimit(t, v.Value)
				limit := c.Resources.Limits.Memory().Value()
				assert.True(t, soft < limit && soft >= limit*7/10,
					"%s/%s: GOMEMLIMIT %s should be 70-99%% of the memory limit %s", w, c.Name, v.Value, c.Resources.Limits.Memory())
			}
		}
	}
}

// goMemLimit parses a GOMEMLIMIT value (a byte count with an optional
// B, KiB, MiB, GiB or TiB suffix).
func goMemLimit(t *testing.T, s string) int64 {
	t.Helper()
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB", "B"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			require.NoError(t, err, "GOMEMLIMIT %q", s)
			return v << (10 * (4 - i))
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "GOMEMLIMIT %q", s)
	return v
}

func checkSecurity(t *testing.T, _ overlay, m *manifests) {
	for _, w := range m.workloads() {
		spec := &w.template.Spec
		assert.False(t, spec.HostNetwork || spec.HostPID || spec.HostIPC, "%s shares a host namespace", w)
		assert.True(t, is(spec.AutomountServiceAccountToken, false), "%s mounts an API token it does not need", w)
		for _, v := range spec.Volumes {
			assert.Nil(t, v.HostPath, "%s mounts a host path", w)
		}
		psc := spec.SecurityContext
		require.NotNil(t, psc, "%s: no pod securityContext", w)
		if len(wagateContainers(w)) > 0 {
			assert.True(t, is(psc.RunAsUser, 65532), "%s: runs as the distroless nonroot user 65532", w)
		}
		for _, c := range allContainers(spec) {
			sc := c.SecurityContext
			if !assert.NotNil(t, sc, "%s/%s: no securityContext", w, c.Name) {
				continue
			}
			nonRoot := is(sc.RunAsNonRoot, true) || (sc.RunAsNonRoot == nil && is(psc.RunAsNonRoot, true))
			assert.True(t, nonRoot, "%s/%s: runAsNonRoot", w, c.Name)
			uid := psc.RunAsUser
			if sc.RunAsUser != nil {
				uid = sc.RunAsUser
			}
			assert.True(t, uid != nil && *uid != 0, "%s/%s: a numeric non-root runAsUser", w, c.Name)
			seccomp := psc.SeccompProfile
			if sc.SeccompProfile != nil {
				seccomp = sc.SeccompProfile
			}
			assert.True(t, seccomp != nil && seccomp.Type == corev1.SeccompProfileTypeRuntimeDefault, "%s/%s: seccomp RuntimeDefault", w, c.Name)
			assert.True(t, is(sc.ReadOnlyRootFilesystem, true), "%s/%s: readOnlyRootFilesystem", w, c.Name)
			assert.True(t, is(sc.AllowPrivilegeEscalation, false), "%s/%s: allowPrivilegeEscalation", w, c.Name)
			assert.False(t, is(sc.Privileged, true), "%s/%s: privileged", w, c.Name)
			if assert.NotNil(t, sc.Capabilities, "%s/%s: capabilities", w, c.Name) {
				assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, "%s/%s: drop ALL", w, c.Name)
				assert.Empty(t, sc.Capabilities.Add, "%s/%s: adds capabilities", w, c.Name)
			}
		}
	}
	for _, ns := range m.namespaces {
		assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"], "Namespace %s enforces the restricted Pod Security Standard", ns.Name)
	}
}

func checkPDBs(t *testing.T, _ overlay, m *manifests) {
	for _, d := range m.deployments {
		var matching []string
		for _, p := range m.pdbs {
			if selects(t, p.Spec.Selector, d.Spec.Template.Labels) {
				matching = append(matching, p.Name)
				// maxUnavailable, not minAvailable: with minAvailable equal to
				// the replica count (1 in dev) a node drain would hang forever.
				if assert.NotNil(t, p.Spec.MaxUnavailable, "PDB %s", p.Name) {
					assert.Equal(t, intstr.FromInt32(1), *p.Spec.MaxUnavailable, "PDB %s", p.Name)
				}
				assert.Nil(t, p.Spec.MinAvailable, "PDB %s", p.Name)
			}
		}
		assert.Len(t, matching, 1, "Deployment %s: PodDisruptionBudgets %v", d.Name, matching)
	}
}

func checkTopologySpread(t *testing.T, _ overlay, m *manifests) {
	for _, d := range m.deployments {
		keys := map[string]bool{}
		for _, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
			assert.True(t, selects(t, c.LabelSelector, d.Spec.Template.Labels), "%s: constraint on %s does not select its own pods", d.Name, c.TopologyKey)
			assert.Equal(t, int32(1), c.MaxSkew, d.Name)
			keys[c.TopologyKey] = true
		}
		assert.True(t, keys["topology.kubernetes.io/zone"], "%s spreads across zones", d.Name)
		assert.True(t, keys["kubernetes.io/hostname"], "%s spreads across nodes", d.Name)
	}
}

func checkGracePeriods(t *testing.T, _ overlay, m *manifests) {
	for _, d := range m.deployments {
		spec := d.Spec.Template.Spec
		require.NotNil(t, spec.TerminationGracePeriodSeconds, "%s sets terminationGracePeriodSeconds", d.Name)
		grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
		c := spec.Containers[0]
		var preStop time.Duration
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
			preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		}
		assert.GreaterOrEqual(t, grace, preStop+20*time.Second, "%s: grace period after the preStop sleep", d.Name)
		if c.Command[0] == "/app/worker" {
			assert.GreaterOrEqual(t, grace, 60*time.Second, "%s: a shard hand-off takes about %s; a SIGKILL before it ends leaves shards idle until their leases expire", d.Name, shardHandOff)
			assert.Nil(t, c.Lifecycle, "%s: a worker takes no traffic and has nothing to wait for before SIGTERM", d.Name)
			ru := d.Spec.Strategy.RollingUpdate
			require.NotNil(t, ru, d.Name)
			assert.Equal(t, intstr.FromInt32(0), *ru.MaxUnavailable, "%s: a rollout never lowers the worker count", d.Name)
			assert.Equal(t, intstr.FromInt32(1), *ru.MaxSurge, "%s: a rollout moves shards one worker at a time", d.Name)
		}
	}
}

func checkAutoscaling(t *testing.T, o overlay, m *manifests) {
	if !o.autoscaled {
		assert.Empty(t, m.hpas, "no HPA")
		for _, d := range m.deployments {
			assert.True(t, is(d.Spec.Replicas, o.replicas), "%s: %d replicas", d.Name, o.replicas)
		}
		return
	}
	shards, err := strconv.Atoi(configValue(t, m, "WAGATE_SHARDS"))
	require.NoError(t, err)
	for _, component := range []string{"api", "worker", "dispatcher"} {
		d := m.deployment(component)
		var hpa *autoscalingv2.HorizontalPodAutoscaler
		for _, h := range m.hpas {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == d.Name {
				require.Nil(t, hpa, "two HPAs scale %s", d.Name)
				hpa = h
			}
		}
		require.NotNil(t, hpa, "no HPA scales %s", d.Name)
		assert.Equal(t, "apps/v1", hpa.Spec.ScaleTargetRef.APIVersion)
		assert.Nil(t, d.Spec.Replicas, "%s: replicas belongs to the HPA; a value in the manifest resets it on every apply", d.Name)
		require.NotNil(t, hpa.Spec.MinReplicas)
		assert.GreaterOrEqual(t, *hpa.Spec.MinReplicas, int32(2), "%s: at least two replicas for availability", hpa.Name)
		assert.Greater(t, hpa.Spec.MaxReplicas, *hpa.Spec.MinReplicas, hpa.Name)

		var metrics []string
		for _, mt := range hpa.Spec.Metrics {
			switch mt.Type {
			case autoscalingv2.ResourceMetricSourceType:
				metrics = append(metrics, string(mt.Resource.Name))
			case autoscalingv2.PodsMetricSourceType:
				metrics = append(metrics, mt.Pods.Metric.Name)
				assert.Equal(t, autoscalingv2.AverageValueMetricType, mt.Pods.Target.Type, hpa.Name)
			default:
				t.Errorf("%s: unexpected metric type %s", hpa.Name, mt.Type)
			}
		}
		want := []string{"cpu"}
		if component == "worker" {
			// A worker without a shard holds no session.
			assert.LessOrEqual(t, int(hpa.Spec.MaxReplicas), shards, "%s: more workers than WAGATE_SHARDS", hpa.Name)
			require.NotNil(t, hpa.Spec.Behavior, "%s: scaling moves shards; it needs a paced behavior", hpa.Name)
			require.NotNil(t, hpa.Spec.Behavior.ScaleDown)
			assert.GreaterOrEqual(t, *hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds, int32(300), hpa.Name)
			if o.sessionsMetric {
				want = append(want, "wagate_worker_sessions")
			}
		}
		assert.Equal(t, want, metrics, "%s metrics", hpa.Name)
	}
}

func checkMigrationJob(t *testing.T, _ overlay, m *manifests) {
	require.Len(t, m.jobs, 1)
	j := m.jobs[0]
	spec := j.Spec.Template.Spec
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	assert.Equal(t, []string{"/app/api", "migrate"}, c.Command, j.Name)
	assert.Contains(t, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}, spec.RestartPolicy)
	assert.NotNil(t, j.Spec.BackoffLimit, "%s retries while the database starts", j.Name)
	assert.NotNil(t, j.Spec.ActiveDeadlineSeconds, "%s gives up eventually", j.Name)
	assert.NotNil(t, j.Spec.TTLSecondsAfterFinished, "%s removes itself so that the next apply can recreate it", j.Name)
	// The migration talks to the same database and NATS as the fleet.
	api := m.deployment("api").Spec.Template.Spec.Containers[0]
	assert.Equal(t, api.EnvFrom, c.EnvFrom, "%s: same ConfigMap as the api", j.Name)
	for _, name := range []string{"WAGATE_DATABASE_URL", "WAGATE_REDIS_URL", "WAGATE_ADMIN_TOKEN"} {
		if assert.NotNil(t, envVar(&c, name), "%s: %s", j.Name, name) {
			assert.Equal(t, envVar(&api, name), envVar(&c, name), "%s: %s as the api", j.Name, name)
		}
	}
}

// ingressRoute is one path of an Ingress.
type ingressRoute struct {
	path     string
	pathType networkingv1.PathType
	service  string
	port     string
}

// matches reports whether a request path takes this route, as ingress-nginx
// decides with use-regex: ImplementationSpecific paths are regular
// expressions anchored at the start.
func (r ingressRoute) matches(t *testing.T, p string) bool {
	switch r.pathType {
	case networkingv1.PathTypeExact:
		return p == r.path
	case networkingv1.PathTypePrefix:
		prefix := strings.TrimSuffix(r.path, "/")
		return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
	default:
		re, err := regexp.Compile("^" + r.path)
		require.NoError(t, err, "Ingress path %q", r.path)
		return re.MatchString(p)
	}
}

// route picks the route for a request path the way ingress-nginx orders its
// locations: exact paths first, then the longest path first.
func route(t *testing.T, routes []ingressRoute, p string) *ingressRoute {
	sorted := slices.Clone(routes)
	sort.SliceStable(sorted, func(i, j int) bool {
		ei, ej := sorted[i].pathType == networkingv1.PathTypeExact, sorted[j].pathType == networkingv1.PathTypeExact
		if ei != ej {
			return ei
		}
		return len(sorted[i].path) > len(sorted[j].path)
	})
	for i := range sorted {
		if sorted[i].matches(t, p) {
			return &sorted[i]
		}
	}
	return nil
}

func checkIngress(t *testing.T, _ overlay, m *manifests) {
	require.NotEmpty(t, m.ingresses)
	hosts := map[string][]ingressRoute{}
	for _, ing := range m.ingresses {
		assert.True(t, is(ing.Spec.IngressClassName, "nginx"), "%s: ingress-nginx (regex paths)", ing.Name)
		for _, rule := range ing.Spec.Rules {
			require.NotEmpty(t, rule.Host, "%s: a rule without host", ing.Name)
			for _, p := range rule.HTTP.Paths {
				require.NotNil(t, p.PathType, "%s: path %s has no pathType", ing.Name, p.Path)
				if *p.PathType == networkingv1.PathTypeImplementationSpecific {
					assert.Equal(t, "true", ing.Annotations["nginx.ingress.kubernetes.io/use-regex"], "%s: regex path %s needs use-regex", ing.Name, p.Path)
				}
				svc := p.Backend.Service
				require.NotNil(t, svc, "%s: path %s has no Service backend", ing.Name, p.Path)
				hosts[rule.Host] = append(hosts[rule.Host], ingressRoute{p.Path, *p.PathType, svc.Name, svc.Port.Name})
				s := m.service(svc.Name)
				if assert.NotNil(t, s, "%s: no Service %s", ing.Name, svc.Name) {
					assert.True(t, slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == svc.Port.Name }),
						"%s: Service %s has no port %q", ing.Name, svc.Name, svc.Port.Name)
				}
			}
		}
		for _, tls := range ing.Spec.TLS {
			for _, h := range tls.Hosts {
				assert.Contains(t, hosts, h, "%s: TLS for a host it does not route", ing.Name)
			}
		}
	}
	api, dispatcher := serviceFor(t, m, "api").Name, serviceFor(t, m, "dispatcher").Name
	for host, routes := range hosts {
		for p, want := range map[string]string{
			"/v1/channels/ch_123/events":   dispatcher,
			"/v1/channels/ch_123/ws":       dispatcher,
			"/v1/events":                   dispatcher,
			"/v1/ws":                       dispatcher,
			"/":                            api,
			"/v1/openapi.yaml":             api,
			"/v1/channels":                 api,
			"/v1/channels/ch_123":          api,
			"/v1/channels/ch_123/messages": api,
			"/v1/channels/ch_123/qr":       api,
			"/v1/channels/ch_123/webhooks": api,
			"/v1/channels/ch_123/webhooks/wh_1/replay": api,
			"/v1/channels/events/messages":             api,
			"/v1/sim/channels/ch_123/scan":             api,
			"/v1/eventsource":                          api,
		} {
			r := route(t, routes, p)
			if assert.NotNil(t, r, "%s%s is not routed", host, p) {
				assert.Equal(t, want, r.service, "%s%s (route %q)", host, p, r.path)
			}
		}
	}
}

// privateRanges must stay unreachable from dispatchers and workers: webhook
// URLs (and media URLs) are chosen by users.
var privateRanges = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}

func checkEgress(t *testing.T, _ overlay, m *manifests) {
	for _, component := range []string{"dispatcher", "worker"} {
		pod := m.deployment(component).Spec.Template.Labels
		var rules []networkingv1.NetworkPolicyEgressRule
		for _, np := range m.networkPolicies {
			if selects(t, &np.Spec.PodSelector, pod) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
				rules = append(rules, np.Spec.Egress...)
			}
		}
		require.NotEmpty(t, rules, "no egress policy selects the %s", component)

		internet, dns := false, false
		reaches := map[int32]bool{}
		for _, r := range rules {
			if len(r.To) == 0 {
				// Any destination: acceptable for DNS only.
				for _, p := range r.Ports {
					assert.Equal(t, int32(53), p.Port.IntVal, "%s: a rule open to any destination on port %s", component, p.Port.String())
					dns = dns || p.Port.IntVal == 53
				}
				assert.NotEmpty(t, r.Ports, "%s: a rule open to every destination and port", component)
				continue
			}
			for _, peer := range r.To {
				switch {
				case peer.IPBlock != nil && peer.IPBlock.CIDR == "0.0.0.0/0":
					internet = true
					for _, want := range privateRanges {
						assert.Contains(t, peer.IPBlock.Except, want, "%s: the internet rule must exclude %s", component, want)
					}
					assert.Empty(t, r.Ports, "%s: webhooks may use any port", component)
				case peer.IPBlock != nil:
					cidr, err := netip.ParsePrefix(peer.IPBlock.CIDR)
					require.NoError(t, err)
					if cidr.Addr().Is4() {
						// Another private block (a managed service) is fine when it
						// is narrow and limited to that service's ports.
						assert.GreaterOrEqual(t, cidr.Bits(), 16, "%s: egress to the wide block %s", component, cidr)
						assert.NotEmpty(t, r.Ports, "%s: egress to %s on every port", component, cidr)
					} else {
						assert.Equal(t, "::/0", peer.IPBlock.CIDR, component)
						assert.Subset(t, peer.IPBlock.Except, []string{"fc00::/7", "fe80::/10"}, component)
					}
				default:
					assert.NotEmpty(t, r.Ports, "%s: egress to pods on every port", component)
				}
			}
			for _, p := range r.Ports {
				reaches[p.Port.IntVal] = true
			}
		}
		assert.True(t, internet, "%s reaches the internet (webhooks, WhatsApp)", component)
		assert.True(t, dns, "%s resolves names", component)
		for port, service := range map[int32]string{4222: "NATS", 5432: "Postgres", 6379: "Redis"} {
			assert.True(t, reaches[port], "%s reaches %s on %d", component, service, port)
		}
		// The backing services of the overlay must be among the peers.
		for _, s := range m.statefulSets {
			port := s.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort
			allowed := slices.ContainsFunc(rules, func(r networkingv1.NetworkPolicyEgressRule) bool {
				return slices.ContainsFunc(r.To, func(p networkingv1.NetworkPolicyPeer) bool {
					return p.PodSelector != nil && selects(t, p.PodSelector, s.Spec.Template.Labels)
				}) && slices.ContainsFunc(r.Ports, func(p networkingv1.NetworkPolicyPort) bool { return p.Port.IntVal == port })
			})
			assert.True(t, allowed, "%s cannot reach StatefulSet %s on %d", component, s.Name, port)
		}
	}
}

// configValue returns a variable of the wagate ConfigMap.
func configValue(t *testing.T, m *manifests, name string) string {
	t.Helper()
	api := m.deployment("api").Spec.Template.Spec.Containers[0]
	for _, ef := range api.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := m.configMap(ef.ConfigMapRef.Name); cm != nil {
				if v, ok := cm.Data[name]; ok {
					return v
				}
			}
		}
	}
	t.Fatalf("the api's ConfigMap has no %s", name)
	return ""
}

func checkReferences(t *testing.T, o overlay, m *manifests) {
	external := func(name string) bool { return slices.Contains(o.externalSecrets, name) }
	for _, w := range m.workloads() {
		spec := &w.template.Spec
		if spec.ServiceAccountName != "" {
			assert.True(t, slices.ContainsFunc(m.serviceAccounts, func(sa *corev1.ServiceAccount) bool { return sa.Name == spec.ServiceAccountName }),
				"%s: no ServiceAccount %s", w, spec.ServiceAccountName)
		}
		for _, v := range spec.Volumes {
			if v.ConfigMap != nil {
				assert.NotNil(t, m.configMap(v.ConfigMap.Name), "%s: no ConfigMap %s", w, v.ConfigMap.Name)
			}
		}
		for _, c := range allContainers(spec) {
			for _, ef := range c.EnvFrom {
				switch {
				case ef.ConfigMapRef != nil:
					assert.NotNil(t, m.configMap(ef.ConfigMapRef.Name), "%s/%s: no ConfigMap %s", w, c.Name, ef.ConfigMapRef.Name)
				case ef.SecretRef != nil && !external(ef.SecretRef.Name):
					assert.NotNil(t, m.secret(ef.SecretRef.Name), "%s/%s: no Secret %s", w, c.Name, ef.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				switch ref := e.ValueFrom; {
				case ref.ConfigMapKeyRef != nil:
					cm := m.configMap(ref.ConfigMapKeyRef.Name)
					if assert.NotNil(t, cm, "%s/%s: %s: no ConfigMap %s", w, c.Name, e.Name, ref.ConfigMapKeyRef.Name) {
						assert.Contains(t, cm.Data, ref.ConfigMapKeyRef.Key, "%s/%s: %s", w, c.Name, e.Name)
					}
				case ref.SecretKeyRef != nil && !external(ref.SecretKeyRef.Name):
					s := m.secret(ref.SecretKeyRef.Name)
					if assert.NotNil(t, s, "%s/%s: %s: no Secret %s", w, c.Name, e.Name, ref.SecretKeyRef.Name) {
						assert.Contains(t, secretKeys(s), ref.SecretKeyRef.Key, "%s/%s: %s", w, c.Name, e.Name)
					}
				}
			}
		}
	}
	for _, name := range o.externalSecrets {
		assert.Nil(t, m.secret(name), "Secret %s is managed outside the kustomization; it must not be rendered (apply would overwrite it)", name)
	}
	// In an overlay with its own Postgres, wagate must log in with its password.
	if pg, app := m.secret("postgres"), m.secret("wagate-secrets"); pg != nil && app != nil {
		password := secretKeys(pg)["POSTGRES_PASSWORD"]
		assert.Contains(t, secretKeys(app)["WAGATE_DATABASE_URL"], ":"+password+"@", "WAGATE_DATABASE_URL uses the postgres Secret's password")
	}
}

// checkConfigValues checks the configuration values as pkg/config does at
// start, so that a typo fails here rather than in a crash-looping pod.
func checkConfigValues(t *testing.T, _ overlay, m *manifests) {
	oneOf := func(vals ...string) func(string) error {
		return func(v string) error {
			if !slices.Contains(vals, v) {
				return fmt.Errorf("not one of %v", vals)
			}
			return nil
		}
	}
	duration := func(v string) error {
		d, err := time.ParseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("%s is not positive", d)
		}
		return err
	}
	intIn := func(lo, hi int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err == nil && (n < lo || n > hi) {
				err = fmt.Errorf("%d is not in [%d, %d]", n, lo, hi)
			}
			return err
		}
	}
	prefixed := func(prefixes ...string) func(string) error {
		return func(v string) error {
			for _, p := range prefixes {
				if strings.HasPrefix(v, p) {
					return nil
				}
			}
			return fmt.Errorf("want a URL starting with one of %v", prefixes)
		}
	}
	parse := map[string]func(string) error{
		"WAGATE_DATABASE_URL":          prefixed("postgres://", "postgresql://"),
		"WAGATE_REDIS_URL":             prefixed("redis://", "rediss://"),
		"WAGATE_NATS_URL":              prefixed("nats://", "tls://"),
		"WAGATE_NATS_PREFIX":           func(v string) error { return matches(`^[A-Za-z0-9_-]*$`, v) },
		"WAGATE_ADMIN_TOKEN":           func(v string) error { return matches(`^.{16,}$`, v) },
		"WAGATE_DRIVER":                oneOf("whatsmeow", "sim"),
		"WAGATE_LOG_LEVEL":             oneOf("debug", "info", "warn", "error"),
		"WAGATE_LOG_FORMAT":            oneOf("json", "text"),
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": func(v string) error { _, err := strconv.ParseBool(v); return err },
		"WAGATE_LEASE_TTL":             duration,
		"WAGATE_EVENT_MAX_AGE":         duration,
		"WAGATE_SHARDS":                intIn(1, 4096),
		"WAGATE_WARMUP_DAYS":           intIn(0, 365),
		"WAGATE_SIM_TIME_SCALE": func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && f <= 0 {
				err = fmt.Errorf("%g is not positive", f)
			}
			return err
		},
		"WAGATE_MEDIA_URL":       prefixed("s3://", "file:///", "/"),
		"WAGATE_S3_ENDPOINT":     func(v string) error { return matches(`^(https?://)?[a-z0-9.-]+(:[0-9]+)?$`, v) },
		"WAGATE_S3_REGION":       func(v string) error { return matches(`^[a-z0-9-]*$`, v) },
		"WAGATE_MEDIA_RETENTION": duration,
		"WAGATE_MEDIA_DOWNLOADS": intIn(1, 256),
		"WAGATE_SEND_RATE": func(v string) error {
			return matches(`^(0|[0-9]+/[smhd])$`, v)
		},
		"WAGATE_WEBHOOK_SCHEDULE": func(v string) error {
			for d := range strings.SplitSeq(v, ",") {
				if err := duration(d); err != nil {
					return err
				}
			}
			return nil
		},
	}
	values := map[string]string{}
	for _, cm := range m.configMaps {
		for k, v := range cm.Data {
			values[k] = v
		}
	}
	for _, s := range m.secrets {
		for k, v := range secretKeys(s) {
			values[k] = v
		}
	}
	for _, w := range m.workloads() {
		for _, c := range allContainers(&w.template.Spec) {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					values[e.Name] = e.Value
				}
			}
		}
	}
	for k, v := range values {
		if p, ok := parse[k]; ok {
			assert.NoError(t, p(v), "%s=%q", k, v)
		}
	}
	for _, w := range m.workloads() {
		if len(wagateContainers(w)) > 0 {
			// Service links would add WAGATE_API_PORT, WAGATE_WORKER_SERVICE_HOST
			// and the like: variables that look like configuration and are not.
			assert.True(t, is(w.template.Spec.EnableServiceLinks, false), "%s: enableServiceLinks", w)
		}
	}
	worker := m.deployment("worker").Spec.Template.Spec.Containers[0]
	if id := envVar(&worker, "WAGATE_WORKER_ID"); assert.NotNil(t, id, "the worker sets WAGATE_WORKER_ID") {
		require.NotNil(t, id.ValueFrom)
		require.NotNil(t, id.ValueFrom.FieldRef)
		assert.Equal(t, "metadata.name", id.ValueFrom.FieldRef.FieldPath, "WAGATE_WORKER_ID is the pod name")
	}
	assert.NotEmpty(t, configValue(t, m, "WAGATE_NATS_URL"), "the split binaries require WAGATE_NATS_URL")
}

// matches returns an error unless v matches the regular expression.
func matches(re, v string) error {
	if !regexp.MustCompile(re).MatchString(v) {
		return fmt.Errorf("does not match %s", re)
	}
	return nil
}

func checkEnvDocumented(t *testing.T, m *manifests, documented map[string]bool) {
	used := map[string]string{}
	for _, cm := range m.configMaps {
		for k := range cm.Data {
			used[k] = "ConfigMap " + cm.Name
		}
	}
	for _, s := range m.secrets {
		if s.Name == "wagate-secrets" {
			for k := range secretKeys(s) {
				used[k] = "Secret " + s.Name
			}
		}
	}
	for _, w := range m.workloads() {
		for _, c := range allContainers(&w.template.Spec) {
			for _, e := range c.Env {
				used[e.Name] = w.String()
			}
		}
	}
	n := 0
	for name, where := range used {
		if !strings.HasPrefix(name, "WAGATE_") {
			continue
		}
		n++
		assert.True(t, documented[name], "%s (%s) is not in the configuration table of %s", name, where, readmePath)
		assert.False(t, gatewayOnly[name], "%s (%s) is read by cmd/gateway alone", name, where)
	}
	assert.Positive(t, n, "no WAGATE_ variable found")
}

func checkImages(t *testing.T, o overlay, m *manifests) {
	images := map[string]bool{}
	for _, w := range m.workloads() {
		for _, c := range allContainers(&w.template.Spec) {
			name, tag, hasTag := strings.Cut(path.Base(c.Image), ":")
			if len(wagateContainers(w)) > 0 {
				images[c.Image] = true
				assert.Equal(t, corev1.PullIfNotPresent, c.ImagePullPolicy, "%s/%s", w, c.Name)
				if o.dir == "base" {
					continue // overlays name the tag
				}
			}
			assert.True(t, hasTag || strings.Contains(name, "@"), "%s/%s: image %s has no tag", w, c.Name, c.Image)
			assert.NotEqual(t, "latest", tag, "%s/%s: image %s", w, c.Name, c.Image)
		}
	}
	assert.Len(t, images, 1, "one image for all wagate binaries: %v", images)
	if o.pinnedImage {
		for image := range images {
			assert.Regexp(t, `^[a-z0-9.-]+\.[a-z]+(:[0-9]+)?/.+:v?[0-9]+\.[0-9]+\.[0-9]+`, image, "a registry and a release tag")
		}
	}
}

func checkMetrics(t *testing.T, o overlay, m *manifests) {
	for _, d := range m.deployments {
		a := d.Spec.Template.Annotations
		assert.Equal(t, "true", a["prometheus.io/scrape"], d.Name)
		assert.Equal(t, "/metrics", a["prometheus.io/path"], d.Name)
		assert.Equal(t, strconv.Itoa(int(binaryPorts[d.Spec.Template.Spec.Containers[0].Command[0]])), a["prometheus.io/port"], d.Name)
	}
	if !o.serviceMonitor {
		assert.Empty(t, m.serviceMonitors)
		return
	}
	require.Len(t, m.serviceMonitors, 1)
	sm := m.serviceMonitors[0]
	for _, component := range []string{"api", "worker", "dispatcher"} {
		svc := serviceFor(t, m, component)
		assert.True(t, selects(t, &sm.Spec.Selector, svc.Labels), "ServiceMonitor %s does not select Service %s", sm.Name, svc.Name)
		for _, ep := range sm.Spec.Endpoints {
			assert.Equal(t, "/metrics", ep.Path)
			assert.True(t, slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }),
				"Service %s has no port %q", svc.Name, ep.Port)
		}
	}
}
