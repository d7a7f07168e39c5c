// Package k8s holds the Kubernetes manifests of wagate (kustomize base,
// overlays and components) and, in its tests, the invariants they keep.
//
// It is a module of its own so that the product's go.mod does not carry
// kustomize and the Kubernetes API types. The tests render every overlay with
// sigs.k8s.io/kustomize/api, decode every object strictly into the
// k8s.io/api types (an unknown or misspelt field fails), and check what a
// reviewer would otherwise check by eye:
//
//   - every Deployment container probes /healthz (liveness, startup) and
//     /readyz (readiness) on the port its binary listens on by default
//     (api 8080, dispatcher 8081, worker 8082);
//   - every container has CPU and memory requests and limits, runs as a
//     non-root user on a read-only root filesystem with all capabilities
//     dropped;
//   - every Deployment has a PodDisruptionBudget and topology spread;
//   - every WAGATE_* variable a manifest sets is one of the configuration
//     table in the repository's README.md;
//   - the Ingress sends the browser streams to the dispatcher and the rest
//     to the api;
//   - dispatchers and workers reach the internet but not private ranges;
//   - workers get a grace period longer than a shard hand-off, and scale
//     with an HPA bounded by the shard count.
package k8s
