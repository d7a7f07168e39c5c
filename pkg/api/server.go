package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ops"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/schemas"
)

// Config configures the API server.
type Config struct {
	// Store is the Postgres store (required).
	Store *store.Store
	// Bus publishes commands to WA_CMD (required).
	Bus *bus.Bus
	// Redis holds the current QR and pairing codes (required).
	Redis *redis.Client
	// Keys builds the Redis keys (WAGATE_REDIS_PREFIX).
	Keys names.Redis
	// AdminToken reaches every channel (required, WAGATE_ADMIN_TOKEN).
	AdminToken string
	// AdminTokens are more admin tokens valid at once (WAGATE_ADMIN_TOKENS).
	AdminTokens []string
	// DefaultDriver is the driver of channels created without one:
	// "whatsmeow" or "sim" (default "whatsmeow", WAGATE_DRIVER).
	DefaultDriver string
	// Shards is the fleet's fixed shard count (required, WAGATE_SHARDS);
	// it must match the WA_CMD subject transform.
	Shards int
	// SimEnabled enables the simulator: the /v1/sim routes exist and
	// channels may use the sim driver only when it is true.
	SimEnabled bool
	// MaxBody limits request bodies in bytes (default 1 MiB).
	MaxBody int64
	// Logger receives request logs (default slog.Default()).
	Logger *slog.Logger
	// Channels, when set, caches channel rows for the bearer-token check
	// of channel tokens; the server announces its own changes to channels
	// through it (httpapi.Announce).
	Channels *httpapi.ChannelCache
	// Secrets seals the channels' proxy URLs (WAGATE_SECRET_KEY). Without
	// it a proxy cannot be set (503 secret_key_missing).
	Secrets *secretbox.Box
	// Mounts add routes of other packages (webhooks, dashboard, stream
	// relay) to the engine after the API's own. auth is the bearer-token
	// middleware; handlers behind it read httpapi.PrincipalOf.
	Mounts []func(r *gin.Engine, auth gin.HandlerFunc)
}

// WithDefaults returns c with its zero optional fields set to defaults.
func (c Config) WithDefaults() Config {
	if c.DefaultDriver == "" {
		c.DefaultDriver = config.DriverWhatsmeow
	}
	if c.MaxBody <= 0 {
		c.MaxBody = httpapi.MaxBody
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("api: Config.Store is required"))
	}
	if c.Bus == nil {
		errs = append(errs, errors.New("api: Config.Bus is required"))
	}
	if c.Redis == nil {
		errs = append(errs, errors.New("api: Config.Redis is required"))
	}
	if c.AdminToken == "" && len(c.AdminTokens) == 0 {
		errs = append(errs, errors.New("api: Config.AdminToken is required (WAGATE_ADMIN_TOKEN)"))
	}
	if c.Shards <= 0 {
		errs = append(errs, errors.New("api: Config.Shards must be positive (WAGATE_SHARDS)"))
	}
	switch c.DefaultDriver {
	case config.DriverWhatsmeow:
	case config.DriverSim:
		if !c.SimEnabled {
			errs = append(errs, errors.New("api: Config.DefaultDriver is sim but SimEnabled is false"))
		}
	default:
		errs = append(errs, errors.New(`api: Config.DefaultDriver must be "whatsmeow" or "sim"`))
	}
	return errors.Join(errs...)
}

// Server is the REST API. Its handler is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine *gin.Engine
	auth   *httpapi.Authenticator
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:  cfg,
		log:  cfg.Logger,
		auth: httpapi.NewAuthenticator(append([]string{cfg.AdminToken}, cfg.AdminTokens...), cfg.Store),
	}
	if cfg.Channels != nil {
		s.auth = httpapi.NewAuthenticator(append([]string{cfg.AdminToken}, cfg.AdminTokens...), cfg.Channels)
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine returns the Gin engine, e.g. to list its routes.
func (s *Server) Engine() *gin.Engine { return s.engine }

func (s *Server) routes() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Redirects would answer outside the error format; a wrong path is a 404.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Client addresses are logged from the connection, never from headers a
	// client can forge, unless the operator puts a trusted proxy in front.
	_ = e.SetTrustedProxies(nil)
	e.Use(requestID(), s.observe(), s.recovery(), httpapi.CheckQuery())
	e.NoRoute(func(c *gin.Context) {
		abort(c, httpapi.Errorf(http.StatusNotFound, "route_not_found",
			"no route %s %s; see GET /v1/openapi.yaml for the API", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		abort(c, httpapi.Errorf(http.StatusMethodNotAllowed, "method_not_allowed",
			"%s is not allowed on %s; allowed: %s", c.Request.Method, c.Request.URL.Path, c.Writer.Header().Get("Allow")))
	})

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", gin.WrapF(ops.ReadyHandler(s.readyChecks()...)))
	e.GET("/metrics", gin.WrapH(promhttp.Handler()))
	e.GET("/v1/openapi.yaml", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", schemas.OpenAPI())
	})

	auth := s.auth.Middleware()
	admin := e.Group("/v1", auth, httpapi.RequireAdmin())
	admin.POST("/channels", s.createChannel)
	admin.GET("/channels", s.listChannels)
	admin.POST("/channels/bulk", s.bulk)

	ch := e.Group("/v1/channels/:id", auth, s.loadChannel)
	ch.GET("", s.getChannel)
	ch.PATCH("", s.patchChannel)
	ch.DELETE("", s.lifecycle(lifecycleDelete))
	for _, a := range []action{lifecycleStart, lifecycleStop, lifecycleRestart, lifecycleLogout} {
		ch.POST("/"+a.verb, s.lifecycle(a))
	}
	ch.GET("/qr", s.getQR)
	ch.POST("/pair-phone", s.pairPhone)
	ch.GET("/pairing-code", s.getPairingCode)
	ch.GET("/history", s.history)
	ch.POST("/token/rotate", s.rotateToken)

	if s.cfg.SimEnabled {
		e.POST("/v1/sim/channels/:id/:action", auth, s.loadChannel, s.sim)
	}

	for _, mount := range s.cfg.Mounts {
		mount(e, auth)
	}
	return e
}

func (s *Server) readyChecks() []ops.Check {
	return []ops.Check{
		{Name: "postgres", Fn: func(ctx context.Context) error { return s.cfg.Store.Pool.Ping(ctx) }},
		{Name: "redis", Fn: func(ctx context.Context) error { return s.cfg.Redis.Ping(ctx).Err() }},
		{Name: "nats", Fn: func(context.Context) error {
			if !s.cfg.Bus.Conn.IsConnected() {
				return errors.New("not connected: " + s.cfg.Bus.Conn.Status().String())
			}
			return nil
		}},
	}
}

// announce tells the channel caches of every API process that a channel
// changed.
func (s *Server) announce(channelID string) {
	httpapi.Announce(s.cfg.Bus.Conn, s.cfg.Bus.Names.ChannelsChanged(), channelID, s.cfg.Channels)
}
