# syntax=docker/dockerfile:1
#
# One image with every wagate binary: /app/api, /app/worker, /app/dispatcher
# and /app/gateway. Kubernetes picks one per Deployment with `command`
# (deploy/k8s); `docker run` without a command starts the all-in-one gateway.
#
#   make image            # docker build -t wagate:dev .
#   docker run --rm -p 8080:8080 -e WAGATE_DRIVER=sim wagate:dev
#
# Static binaries (CGO_ENABLED=0) on distroless static: no shell, no package
# manager, CA certificates and time zones included, user nonroot (65532).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Module downloads get their own layer: they change less often than the code.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/ \
      ./cmd/api ./cmd/worker ./cmd/dispatcher ./cmd/gateway

FROM gcr.io/distroless/static-debian13:nonroot
LABEL org.opencontainers.image.title="wagate" \
      org.opencontainers.image.description="WhatsApp API gateway: api, worker, dispatcher and the all-in-one gateway" \
      org.opencontainers.image.source="https://github.com/wagate/wagate"
COPY --from=build /out/ /app/
USER 65532:65532
# The gateway keeps its embedded NATS data in ./data: a directory the
# nonroot user owns (mount a volume here to keep it).
WORKDIR /home/nonroot
# api and gateway 8080, dispatcher 8081, worker 8082 (health and metrics).
EXPOSE 8080 8081 8082
ENTRYPOINT ["/app/gateway"]
