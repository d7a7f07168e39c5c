package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/worker"
)

// mediaFile is the size of the images of the media scenario.
const mediaFile = 1 << 20

// mediaDownloads is how many downloads the worker runs at once
// (WAGATE_MEDIA_DOWNLOADS's default), and the raw baseline's concurrency.
const mediaDownloads = 4

// runMedia measures inbound media on each media store, the local
// directory and S3 (a versitygw process over a local folder): 1 MB images
// a simulated phone sends go through the owner's download (the simulated
// media server streams them into a temporary file, SHA-256 checked), into
// the store, and out as message.media_stored. The raw baseline, measured
// in the same run on the same store, is Put of 1 MB files from memory at
// the same concurrency (mediaDownloads). The heap held per running download
// is the growth of the process's heap above its idle level at the peak of
// the run, divided by the downloads that can run at once: an upper bound,
// since everything else the process does in the run counts too.
func runMedia(ctx context.Context, r *runner, res *result) error {
	n := pick(r, 400, 60)
	rates := map[string]float64{}
	for _, backend := range []string{"local", "s3"} {
		rate, err := mediaRun(ctx, r, res, backend, n)
		if err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
		rates[backend] = rate
	}
	if rates["local"] > 0 {
		res.add("S3 (versitygw) vs local: inbound images per second", round(rates["s3"]/rates["local"], 2), "ratio").
			note("the pipeline's rate on S3 divided by its rate on the local directory")
	}
	return nil
}

// mediaRun measures one store.
func mediaRun(ctx context.Context, r *runner, res *result, backend string, n int) (float64, error) {
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	vars, err := e.gatewayEnv(ctx, "")
	if err != nil {
		return 0, err
	}
	if backend == "s3" {
		s3, err := startVersityGW(ctx, r.root, e)
		if err != nil {
			return 0, err
		}
		vars["WAGATE_MEDIA_URL"] = "s3://" + s3.bucket + "/bench"
		vars["WAGATE_S3_ENDPOINT"] = "http://" + s3.endpoint // versitygw serves plain HTTP
		vars["WAGATE_S3_ACCESS_KEY"], vars["WAGATE_S3_SECRET_KEY"] = s3.access, s3.secret
	}
	g, err := e.startGateway(ctx, vars, func(c *worker.Config) { c.MediaDownloads = mediaDownloads })
	if err != nil {
		return 0, err
	}
	store := g.Deps.Media

	r.progress("%s: raw baseline: Put %d files of 1 MB, %d at once", backend, n, mediaDownloads)
	raw, err := rawPuts(ctx, store, n)
	if err != nil {
		return 0, err
	}
	res.add(backend+": raw Put of 1 MB files, 4 at once", round(raw, 1), "files/s").
		note("%s store, from memory, SHA-256 computed while streaming", backend)

	a := newAPI(g)
	chans, err := a.pairChannels(ctx, 4)
	if err != nil {
		return 0, err
	}
	stored, stop, err := watchMediaStored(ctx, g)
	if err != nil {
		return 0, err
	}
	defer stop()

	heap := sampleHeap(ctx)

	r.progress("%s: %d inbound images of 1 MB through the simulator on %d channels", backend, n, len(chans))
	start := time.Now()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	err = parallel(ctx, 8, idx, func(gctx context.Context, i int) error {
		_, err := a.Simulate(gctx, chans[i%len(chans)], client.SimInbound, map[string]any{
			"id": fmt.Sprintf("3AMEDIA%06d", i), "from": "15550102030", "type": "image", "size": mediaFile})
		return err
	})
	if err != nil {
		heap()
		return 0, err
	}
	elapsed, err := awaitStored(ctx, stored, int64(n), start, pick(r, 5*time.Minute, 2*time.Minute), "images")
	held := heap()
	if err != nil {
		return 0, err
	}
	rate := float64(n) / elapsed.Seconds()
	res.add(backend+": inbound 1 MB images → download → store → message.media_stored", round(rate, 1), "images/s").
		note("%.2f× the raw Put of the same store; %.1f MB/s; %d images on %d channels", rate/raw, rate*mediaFile/1e6, n, len(chans))
	res.add(backend+": heap held per running download", round(float64(held)/mediaDownloads/1024, 0), "KiB").
		note("peak heap above idle ÷ %d downloads at once (upper bound: includes the events, NATS and HTTP of the run); the file is %d KiB", mediaDownloads, mediaFile/1024)
	if backend == "local" {
		if err := mediaLarge(ctx, r, res, a, chans, stored, int64(n)); err != nil {
			return 0, fmt.Errorf("large files: %w", err)
		}
	}
	return rate, nil
}

// largeFile is the size of the videos of the large-file part: larger
// than any buffer on the way, so a download that held its file would show.
const largeFile = 100 << 20

// mediaLarge measures what a download of a large file holds: videos of
// 100 MB, one per channel (mediaDownloads at once), fetched at once by a
// channel setting (videos are not by default) into the local directory.
// The heap per running download should be what it is for 1 MB images or
// less (no thumbnail is decoded): the file streams through a temporary
// file, never through memory.
func mediaLarge(ctx context.Context, r *runner, res *result, a *api, chans []string, stored *atomic.Int64, before int64) error {
	maxBytes := int64(largeFile)
	for _, ch := range chans {
		if _, err := a.UpdateChannel(ctx, ch, client.UpdateChannelRequest{Settings: &client.SettingsPatch{
			Media: &client.MediaSettings{AutoDownload: &client.MediaAutoDownload{Types: []string{"video"}, MaxBytes: &maxBytes}}}}); err != nil {
			return err
		}
	}
	n := pick(r, 2*len(chans), len(chans))
	r.progress("local: %d inbound videos of %d MB, %d at once", n, largeFile>>20, mediaDownloads)
	heap := sampleHeap(ctx)
	start := time.Now()
	for i := range n {
		if _, err := a.Simulate(ctx, chans[i%len(chans)], client.SimInbound, map[string]any{
			"id": fmt.Sprintf("3AVIDEO%06d", i), "from": "15550102030", "type": "video", "size": largeFile}); err != nil {
			heap()
			return err
		}
	}
	elapsed, err := awaitStored(ctx, stored, before+int64(n), start, 5*time.Minute, "videos")
	held := heap()
	if err != nil {
		return err
	}
	res.add("local: heap held per running download of a 100 MB video", round(float64(held)/mediaDownloads/1024, 0), "KiB").
		note("peak heap above idle ÷ %d downloads at once; %d videos, %.0f MB/s; the file is %d KiB", mediaDownloads, n, float64(n)*largeFile/1e6/elapsed.Seconds(), largeFile/1024)
	return nil
}

// awaitStored waits until stored counts want media_stored events and
// returns the time since start.
func awaitStored(ctx context.Context, stored *atomic.Int64, want int64, start time.Time, limit time.Duration, what string) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	for stored.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if got := stored.Load(); got < want {
		return 0, fmt.Errorf("%d of %d %s stored after %s", got, want, what, elapsed.Round(time.Second))
	}
	return elapsed, nil
}

// sampleHeap samples the heap in use every 20 ms from now; the returned
// function stops and answers the peak's growth above the level at the
// start (after a GC), in bytes.
func sampleHeap(ctx context.Context) func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	idle := ms.HeapInuse
	var peak atomic.Uint64
	sampled := make(chan struct{})
	sampling, stop := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-sampling.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		stop()
		<-sampled
		if p := peak.Load(); p > idle {
			return p - idle
		}
		return 0
	}
}

// rawPuts puts n files of 1 MB into st, mediaDownloads at once, and
// returns files per second; it deletes them afterwards.
func rawPuts(ctx context.Context, st media.Store, n int) (float64, error) {
	file := make([]byte, mediaFile)
	if _, err := rand.Read(file); err != nil {
		return 0, err
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	start := time.Now()
	err := parallel(ctx, mediaDownloads, idx, func(gctx context.Context, i int) error {
		_, err := st.Put(gctx, fmt.Sprintf("bench-raw/%06d", i), bytes.NewReader(file), media.PutOptions{Size: mediaFile, ContentType: "image/png"})
		return err
	})
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if err := st.DeletePrefix(ctx, "bench-raw/"); err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// watchMediaStored counts the message.media_stored events of WA_EVT.
func watchMediaStored(ctx context.Context, g *app.Gateway) (*atomic.Int64, func(), error) {
	b := g.Deps.Bus
	cons, err := b.JS.OrderedConsumer(ctx, b.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Names.Evt("*", event.MessageMediaStored)},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, nil, err
	}
	var n atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var ev struct {
			Data struct {
				MessageID string `json:"message_id"`
			} `json:"data"`
		}
		if json.Unmarshal(m.Data(), &ev) != nil {
			return
		}
		mu.Lock()
		if !seen[ev.Data.MessageID] {
			seen[ev.Data.MessageID] = true
			n.Add(1)
		}
		mu.Unlock()
	})
	if err != nil {
		return nil, nil, err
	}
	return &n, cc.Stop, nil
}

// versityGW is an S3-compatible server the bench runs.
type versityGW struct {
	endpoint, access, secret, bucket string
}

// startVersityGW runs versitygw (bin/tools, installed by
// scripts/versitygw.sh) over a temporary folder on a free port and
// creates a bucket; the env's clean-up stops it.
func startVersityGW(ctx context.Context, root string, e *env) (*versityGW, error) {
	bin := filepath.Join(root, "bin", "tools", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		if p, lerr := exec.LookPath("versitygw"); lerr == nil {
			bin = p
		} else {
			return nil, errors.New("versitygw is not installed: run scripts/versitygw.sh")
		}
	}
	dir, err := e.tempDir()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &versityGW{endpoint: l.Addr().String(), access: "wagatebench", secret: "wagatebenchsecret", bucket: "media-" + unique()}
	_ = l.Close()
	cmd := exec.Command(bin, "--access", s.access, "--secret", s.secret, "--port", s.endpoint, "--quiet", "posix", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e.defer_(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.endpoint, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("versitygw did not listen on %s: %w", s.endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mc, err := minio.New(s.endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.access, s.secret, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, err
	}
	if err := mc.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return nil, fmt.Errorf("create the bucket: %w", err)
	}
	return s, nil
}
