// Package deps pins modules that packages still being written will import,
// so go.sum is complete for everyone working in the tree at once. It is
// removed once every module is imported by real code.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/coder/websocket"
	_ "github.com/gin-gonic/gin"
	_ "github.com/hashicorp/go-retryablehttp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promauto"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/standard-webhooks/standard-webhooks/libraries/go"
	_ "go.mau.fi/whatsmeow"
	_ "go.mau.fi/whatsmeow/proto/waE2E"
	_ "go.mau.fi/whatsmeow/store/sqlstore"
	_ "go.mau.fi/whatsmeow/types/events"
	_ "gopkg.in/yaml.v3"
)
