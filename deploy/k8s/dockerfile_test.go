package k8s_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dockerInstructions returns the instructions of a Dockerfile, continuation
// lines joined and comments dropped.
func dockerInstructions(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var out []string
	cur := ""
	for line := range strings.SplitSeq(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if more, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur += more + " "
			continue
		}
		out = append(out, strings.Join(strings.Fields(cur+trimmed), " "))
		cur = ""
	}
	return out
}

// The manifests run /app/<binary> as user 65532 from one image: the
// Dockerfile must build exactly that.
func TestDockerfileBuildsWhatTheManifestsRun(t *testing.T) {
	t.Parallel()
	ins := dockerInstructions(t, "../../Dockerfile")
	joined := strings.Join(ins, "\n")

	goMod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
	require.NotNil(t, goVersion, "no go directive in go.mod")
	assert.Contains(t, joined, "ARG GO_VERSION="+string(goVersion[1]), "the builder's Go matches go.mod")
	assert.Regexp(t, `(?m)^FROM .*golang:\$\{GO_VERSION\} AS build$`, joined)

	var build string
	for _, in := range ins {
		if strings.HasPrefix(in, "RUN ") && strings.Contains(in, "go build") {
			build = in
		}
	}
	require.NotEmpty(t, build, "no go build step")
	assert.Contains(t, build, "CGO_ENABLED=0", "static binaries for a distroless static image")
	assert.Contains(t, build, "-o /out/ ")
	for binary := range binaryPorts {
		assert.Contains(t, build, "./cmd/"+strings.TrimPrefix(binary, "/app/"), "the image lacks %s", binary)
	}
	assert.Contains(t, build, "./cmd/gateway")

	last := ins[len(ins)-1]
	assert.Equal(t, `ENTRYPOINT ["/app/gateway"]`, last)
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static-[a-z0-9]+:nonroot$`, joined)
	assert.Contains(t, joined, "COPY --from=build /out/ /app/")
	assert.Contains(t, joined, "USER 65532:65532", "the manifests' runAsUser")
}
