package k8s_test

import (
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// mediaVariables are the settings that choose and reach the media store.
var mediaVariables = []string{"WAGATE_MEDIA_URL", "WAGATE_S3_ENDPOINT", "WAGATE_S3_REGION", "WAGATE_S3_ACCESS_KEY", "WAGATE_S3_SECRET_KEY"}

// containerSettings resolves what a container is given for each variable: a
// ConfigMap or literal value as is, a Secret key as "secret:name/key" (with
// "?" when optional), so that two containers can be compared.
func containerSettings(t *testing.T, m *manifests, c *corev1.Container) map[string]string {
	t.Helper()
	s := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := m.configMap(ef.ConfigMapRef.Name); assert.NotNil(t, cm, "ConfigMap %s", ef.ConfigMapRef.Name) {
				for k, v := range cm.Data {
					s[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			s[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s[e.Name] = "secret:" + ref.Name + "/" + ref.Key
			if is(ref.Optional, true) {
				s[e.Name] += "?"
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if cm := m.configMap(ref.Name); assert.NotNil(t, cm, "ConfigMap %s", ref.Name) {
				s[e.Name] = cm.Data[ref.Key]
			}
		}
	}
	return s
}

// Every api and worker reaches one media store: the worker that owns a
// channel stores what its phone sent and the api serves it (GET …/media),
// so a store per process would answer 404 for most files — and the split
// binaries refuse to start without WAGATE_MEDIA_URL. The dispatcher and the
// migration Job never touch media files and get no credential for them.
func TestMediaStoreSharedByAPIAndWorkers(t *testing.T) {
	t.Parallel()
	for _, o := range overlays {
		t.Run(o.dir, func(t *testing.T) {
			t.Parallel()
			m := render(t, o.dir)
			api := containerSettings(t, m, &m.deployment("api").Spec.Template.Spec.Containers[0])
			worker := containerSettings(t, m, &m.deployment("worker").Spec.Template.Spec.Containers[0])
			for _, v := range mediaVariables {
				assert.Equal(t, api[v], worker[v], "%s differs between the api and the worker", v)
			}
			mediaURL := api["WAGATE_MEDIA_URL"]
			require.NotEmpty(t, mediaURL, "the api and worker refuse to start without WAGATE_MEDIA_URL")
			// A directory would need one ReadWriteMany volume mounted in every
			// api and worker pod; the overlays use S3.
			require.True(t, strings.HasPrefix(mediaURL, "s3://"), "WAGATE_MEDIA_URL=%s: an S3 bucket", mediaURL)
			bucket, _, _ := strings.Cut(strings.TrimPrefix(mediaURL, "s3://"), "/")
			require.NotEmpty(t, bucket, "WAGATE_MEDIA_URL=%s names no bucket", mediaURL)
			assert.Equal(t, api["WAGATE_S3_ACCESS_KEY"] == "", api["WAGATE_S3_SECRET_KEY"] == "", "the access key and the secret key come together")
			for _, v := range []string{"WAGATE_DATA_DIR"} {
				assert.Empty(t, api[v], "the api: %s is the gateway's", v)
				assert.Empty(t, worker[v], "the worker: %s is the gateway's", v)
			}

			for _, w := range m.workloads() {
				for binary, c := range wagateContainers(w) {
					if binary == "/app/api" && w.kind == "Deployment" || binary == "/app/worker" {
						continue
					}
					s := containerSettings(t, m, c)
					assert.Empty(t, s["WAGATE_S3_ACCESS_KEY"], "%s (%s) holds the media store's access key", w, binary)
					assert.Empty(t, s["WAGATE_S3_SECRET_KEY"], "%s (%s) holds the media store's secret key", w, binary)
				}
			}

			endpoint := api["WAGATE_S3_ENDPOINT"]
			if endpoint == "" {
				assert.NotEqual(t, "overlays/dev", o.dir, "dev is self-contained: its media store runs in the cluster")
				return // AWS S3, over the internet egress rule
			}
			checkInClusterS3(t, m, endpoint, bucket, api)
		})
	}
}

// checkInClusterS3 checks a media store that the overlay runs itself: the
// endpoint is one of its Services, the bucket exists before wagate starts,
// and the store's root credentials are the ones the api and worker use.
func checkInClusterS3(t *testing.T, m *manifests, endpoint, bucket string, api map[string]string) {
	t.Helper()
	hostport := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	require.NoError(t, err, "WAGATE_S3_ENDPOINT=%s: host:port", endpoint)
	svc := m.service(host)
	require.NotNil(t, svc, "WAGATE_S3_ENDPOINT=%s: no Service %s in the overlay", endpoint, host)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == int32(n) })
	require.GreaterOrEqual(t, i, 0, "Service %s has no port %d", host, n)

	var store *workload
	for _, w := range m.workloads() {
		if w.kind == "StatefulSet" && selects(t, metaSelector(svc.Spec.Selector), w.template.Labels) {
			store = &w
		}
	}
	require.NotNil(t, store, "Service %s selects no StatefulSet", host)
	spec := &store.template.Spec
	require.Len(t, spec.Containers, 1)
	server := &spec.Containers[0]

	// versitygw's posix backend serves each top-level folder of its
	// directory as a bucket: an init container makes the bucket's folder on
	// the same volume, or every api and worker would fail their start-up
	// check (bucket does not exist).
	require.NotEmpty(t, server.Args, "%s: no arguments", store)
	dir := server.Args[len(server.Args)-1]
	require.Equal(t, "posix", server.Args[len(server.Args)-2], "%s serves a directory: %v", store, server.Args)
	volume := mountedVolume(server, dir)
	require.NotEmpty(t, volume, "%s: no volume mounted at %s", store, dir)
	made := false
	for _, ic := range spec.InitContainers {
		for _, mnt := range ic.VolumeMounts {
			if mnt.Name == volume && slices.Contains(ic.Command, path.Join(mnt.MountPath, bucket)) {
				made = slices.Contains(ic.Command, "mkdir")
			}
		}
	}
	assert.True(t, made, "%s: no init container makes the bucket folder %s on volume %s", store, bucket, volume)

	// One source for the credentials: the store's root keys are the keys
	// wagate is given.
	s := containerSettings(t, m, server)
	assert.Equal(t, strings.TrimSuffix(api["WAGATE_S3_ACCESS_KEY"], "?"), s["ROOT_ACCESS_KEY"], "%s's root access key", store)
	assert.Equal(t, strings.TrimSuffix(api["WAGATE_S3_SECRET_KEY"], "?"), s["ROOT_SECRET_KEY"], "%s's root secret key", store)
	assert.True(t, strings.HasPrefix(s["ROOT_ACCESS_KEY"], "secret:"), "%s: credentials from a Secret", store)
}

// mountedVolume returns the volume that holds dir in c.
func mountedVolume(c *corev1.Container, dir string) string {
	for _, mnt := range c.VolumeMounts {
		if dir == mnt.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(mnt.MountPath, "/")+"/") {
			return mnt.Name
		}
	}
	return ""
}
