package app

import "github.com/nats-io/nats.go"

type natsOption = nats.Option
