// Command bulk-sender sends N text messages through wagate's HTTP API with
// pkg/client, each with an idempotency key, and reports its progress.
//
//	WAGATE_TOKEN=<admin or channel token> go run ./examples/bulk-sender \
//	    -channel ch_… -to 15550102030 -n 100 -keys campaign-7
//
// The keys are <keys>-<i>: running the command again with the same -keys
// sends nothing twice (the API answers the stored messages, counted as
// replayed), so an interrupted run is finished by running it again. A
// full queue (429 queue_full) and an unavailable dependency (503) are
// waited out as the answer's Retry-After says, with the same key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wagate/wagate/pkg/client"
)

func main() {
	base := flag.String("url", envOr("WAGATE_URL", "http://localhost:8080"), "the API's base URL (WAGATE_URL)")
	channel := flag.String("channel", "", "channel id (ch_…)")
	to := flag.String("to", "", "recipient: a phone number in international form or a JID")
	n := flag.Int("n", 100, "messages to send")
	keys := flag.String("keys", "bulk-"+strconv.FormatInt(time.Now().Unix(), 10), "idempotency key prefix; reuse it to resume a run")
	text := flag.String("text", "Message %d of %d", "text; %d placeholders are the message number and N")
	workers := flag.Int("concurrency", 8, "requests in flight")
	flag.Parse()
	token := os.Getenv("WAGATE_TOKEN")
	if *channel == "" || *to == "" || token == "" || *n < 1 || *workers < 1 {
		flag.Usage()
		log.Fatal("need -channel, -to, N ≥ 1 and the token in WAGATE_TOKEN")
	}
	c, err := client.New(*base, token)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var accepted, replayed, failed, waits atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() {
			for i := range jobs {
				m := client.SendMessageRequest{To: *to, Type: client.TypeText, Text: fmt.Sprintf(*text, i, *n)}
				a, err := send(ctx, c, *channel, m, *keys+"-"+strconv.Itoa(i), &waits)
				switch {
				case err != nil:
					failed.Add(1)
					if ctx.Err() == nil {
						log.Printf("message %d: %v", i, err)
					}
				case a.Replayed:
					replayed.Add(1)
				default:
					accepted.Add(1)
				}
			}
		})
	}
	start := time.Now()
	report := func() {
		done := accepted.Load() + replayed.Load() + failed.Load()
		fmt.Printf("%d/%d  accepted %d  replayed %d  failed %d  waits %d  %.0f/s\n", done, *n,
			accepted.Load(), replayed.Load(), failed.Load(), waits.Load(), float64(done)/time.Since(start).Seconds())
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	go func() {
		for range tick.C {
			report()
		}
	}()
	for i := 1; i <= *n && ctx.Err() == nil; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	tick.Stop()
	report()
	if failed.Load() > 0 || ctx.Err() != nil {
		fmt.Printf("run again with -keys %s to send what is missing (nothing is sent twice)\n", *keys)
		os.Exit(1)
	}
}

// maxAttempts bounds the attempts of one message.
const maxAttempts = 20

// send sends one message, waiting out 429 and 503 answers (and transport
// errors) with the same idempotency key.
func send(ctx context.Context, c *client.Client, channel string, m client.SendMessageRequest, key string, waits *atomic.Int64) (*client.MessageAccepted, error) {
	for attempt := 1; ; attempt++ {
		a, err := c.SendMessage(ctx, channel, m, client.WithIdempotencyKey(key))
		if err == nil {
			return a, nil
		}
		wait, temporary := client.RetryAfter(err)
		_, answered := errors.AsType[*client.Error](err)
		if answered && !temporary || attempt == maxAttempts || ctx.Err() != nil {
			return nil, err
		}
		if wait <= 0 {
			wait = time.Duration(min(attempt, 10)) * time.Second // no Retry-After, or no answer at all
		}
		waits.Add(1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
