package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
)

// HeaderRequestID carries the id of each request in the response; it is
// also the request_id of the commands the request publishes.
const HeaderRequestID = "X-Request-Id"

const requestIDKey = "wagate.request_id"

// requestPrefix starts request ids.
const requestPrefix = "req_"

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_api_http_requests_total",
		Help: "HTTP requests answered by the API, by route template, method and status.",
	}, []string{"route", "method", "status"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wagate_api_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route template and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	commandsPublished = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_api_commands_published_total",
		Help: "Commands the API published to WA_CMD, by verb and result (ok, error).",
	}, []string{"verb", "result"})
)

// requestID gives every request a fresh id. An id sent by the client is not
// reused: it names commands, and a reused one would de-duplicate them away.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := ids.New(requestPrefix)
		c.Set(requestIDKey, id)
		c.Header(HeaderRequestID, id)
		c.Next()
	}
}

func requestIDOf(c *gin.Context) string { return c.GetString(requestIDKey) }

// routeLabel is the route template, so metrics stay bounded whatever paths
// clients send.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// observe logs each request and records its metrics. It logs no headers and
// no query string, so tokens never reach the logs.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		route, method, status := routeLabel(c), methodLabel(c.Request.Method), c.Writer.Status()
		httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		httpDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		if !s.log.Enabled(c.Request.Context(), level) {
			return // a busy API at level warn builds no attributes
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("client_ip", c.ClientIP()),
		}
		if id := c.Param("id"); id != "" {
			attrs = append(attrs, slog.String("channel_id", id))
		}
		if code := c.GetString(errorCodeKey); code != "" {
			attrs = append(attrs, slog.String("error_code", code))
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("error", c.Errors.String()))
		}
		s.log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}

// recovery turns a panic in a handler into 500 internal_error (when nothing
// was written yet) and logs it with its stack.
func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.Error("panic in handler", "request_id", requestIDOf(c), "route", routeLabel(c),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			abort(c, fmt.Errorf("panic: %v", r))
		}()
		c.Next()
	}
}

const errorCodeKey = "wagate.error_code"

// abort answers err in the error format and remembers its code for the log.
func abort(c *gin.Context, err error) {
	c.Set(errorCodeKey, httpapi.Classify(err).Code)
	httpapi.Abort(c, err)
}
