// Command receiver is a webhook receiver that prints every event wagate
// delivers to it, after checking its Standard Webhooks signature with
// pkg/client's WebhookVerifier.
//
//	WAGATE_WEBHOOK_SECRET=whsec_… go run ./examples/receiver -addr 127.0.0.1:9000
//
// Register it with POST /v1/channels/{id}/webhooks {"url":"http://127.0.0.1:9000/hooks"}
// (the answer holds the secret); a gateway delivers to a loopback address
// only with WAGATE_WEBHOOK_ALLOW_PRIVATE=true. During a secret rotation,
// give both secrets separated by a space or a comma. Requests that fail
// verification are answered 401 and printed to stderr; wagate retries
// them, so nothing is lost while the secret is being fixed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wagate/wagate/pkg/client"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	secrets := strings.FieldsFunc(os.Getenv("WAGATE_WEBHOOK_SECRET"), func(r rune) bool { return r == ' ' || r == ',' })
	if len(secrets) == 0 {
		log.Fatal("WAGATE_WEBHOOK_SECRET is empty: set it to the secret (whsec_…) of the webhook's creation answer")
	}
	v, err := client.NewWebhookVerifier(secrets...)
	if err != nil {
		log.Fatalf("WAGATE_WEBHOOK_SECRET: %v", err)
	}
	seen := newSeen(10000)
	verified := v.Handler(func(_ *http.Request, ev *client.WebhookEvent) error {
		// Delivery is at least once: a retry of a delivery that was in
		// fact received carries the same id.
		if !seen.add(ev.ID) {
			fmt.Printf("%s seq=%d %s %s %s (duplicate, ignored)\n", time.Now().Format(time.TimeOnly), ev.Seq, ev.Type, ev.ChannelID, ev.ID)
			return nil
		}
		fmt.Printf("%s seq=%d %s %s %s %s\n", time.Now().Format(time.TimeOnly), ev.Seq, ev.Type, ev.ChannelID, ev.ID, ev.Data)
		return nil
	})
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			verified.ServeHTTP(rec, r)
			if rec.status == http.StatusUnauthorized {
				log.Printf("refused a request from %s: %s (is WAGATE_WEBHOOK_SECRET the endpoint's secret?)", r.RemoteAddr, strings.TrimSpace(rec.body.String()))
			}
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("receiving webhooks on http://%s/ (any path)", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// seen remembers the last n event ids.
type seen struct {
	mu   sync.Mutex
	ids  map[string]bool
	ring []string
	next int
}

func newSeen(n int) *seen { return &seen{ids: make(map[string]bool, n), ring: make([]string, n)} }

// add reports whether id is new.
func (s *seen) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids[id] {
		return false
	}
	delete(s.ids, s.ring[s.next])
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.ids[id] = true
	return true
}

// statusRecorder keeps the status and error text of an answer for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status >= 400 && r.body.Len() < 512 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}
