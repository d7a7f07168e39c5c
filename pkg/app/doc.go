// Package app wires wagate's parts for the binaries: it opens the shared
// dependencies (Postgres, Redis, NATS — embedded for cmd/gateway), builds
// the session drivers, the worker, the API and the dispatcher from one
// config.Config, and runs them until their context ends. cmd/*/main.go only
// read the configuration and call into this package; tests and benchmarks
// start a whole gateway in-process through Start.
package app
