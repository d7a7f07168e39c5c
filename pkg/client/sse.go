package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// ChannelEvents streams the channel's events as Server-Sent Events
// (GET /v1/channels/{id}/events). The stream connects on the first Next.
func (c *Client) ChannelEvents(ctx context.Context, channelID string, o StreamOptions) *Stream {
	return c.sseStream(ctx, path("/v1/channels/", channelID, "/events"), o)
}

// Events streams every channel's events (admin token, or a stream token
// issued without a channel) as Server-Sent Events (GET /v1/events).
func (c *Client) Events(ctx context.Context, o StreamOptions) *Stream {
	return c.sseStream(ctx, "/v1/events", o)
}

func (c *Client) sseStream(ctx context.Context, p string, o StreamOptions) *Stream {
	hc := *c.http
	hc.Timeout = 0 // a stream stays open
	return newStream(ctx, o, func(ctx context.Context, last uint64) (streamConn, error) {
		q := url.Values{}
		setStr(q, "stream_token", o.StreamToken)
		cc := c
		if o.StreamToken != "" {
			cc = c.WithToken("")
		}
		r := request{method: http.MethodGet, path: withQuery(p, q), accept: "text/event-stream"}
		if last > 0 {
			r.opts = []CallOption{WithHeader("Last-Event-ID", strconv.FormatUint(last, 10))}
		}
		ctx, cancel := context.WithCancel(ctx)
		req, err := cc.newRequest(ctx, r)
		if err != nil {
			cancel()
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel()
			return nil, errorFrom(resp, raw)
		}
		return &sseConn{body: resp.Body, r: bufio.NewReaderSize(resp.Body, 64<<10), cancel: cancel}, nil
	})
}

// sseConn parses one Server-Sent Events response.
type sseConn struct {
	body   io.ReadCloser
	r      *bufio.Reader
	cancel context.CancelFunc
	once   sync.Once
}

var _ streamConn = (*sseConn)(nil)

func (s *sseConn) close() {
	s.once.Do(func() {
		s.cancel()
		s.body.Close()
	})
}

// errIdle ends a connection that stayed silent past its idle timeout.
var errIdle = errors.New("client: stream silent past its idle timeout")

func (s *sseConn) next(idle time.Duration) (StreamEvent, error) {
	var (
		name, id string
		data     []byte
		hasData  bool
	)
	timer := time.AfterFunc(idle, s.close)
	defer timer.Stop()
	for {
		line, err := s.r.ReadBytes('\n')
		if err != nil {
			if !timer.Stop() {
				return StreamEvent{}, errIdle
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return StreamEvent{}, fmt.Errorf("client: event stream: %w", err)
		}
		timer.Reset(idle)
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if !hasData && id == "" {
				name = ""
				continue // a comment block without id, or the retry: preamble
			}
			return sseEvent(name, id, data, hasData)
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = string(value)
		case "id":
			id = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
}

// sseEvent turns one dispatched block into a StreamEvent.
func sseEvent(name, id string, data []byte, hasData bool) (StreamEvent, error) {
	var ev StreamEvent
	if id != "" {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return ev, fmt.Errorf("client: event stream: malformed id %q", id)
		}
		ev.ID = n
	}
	if !hasData {
		ev.Kind = kindHeartbeat
		return ev, nil
	}
	return decodeStreamData(ev, name, data)
}

// decodeStreamData fills ev from a control event's or an event's JSON.
func decodeStreamData(ev StreamEvent, kind string, data []byte) (StreamEvent, error) {
	var err error
	switch kind {
	case KindReady:
		ev.Kind, ev.Ready = KindReady, new(StreamReady)
		err = decodeJSON(data, ev.Ready)
	case KindReset:
		ev.Kind, ev.Reset = KindReset, new(StreamReset)
		err = decodeJSON(data, ev.Reset)
	default: // an event, named after its type or unnamed
		ev.Kind, ev.Event = KindEvent, new(Event)
		err = decodeJSON(data, ev.Event)
	}
	if err != nil {
		return StreamEvent{}, fmt.Errorf("client: event stream: decode %s: %w", ev.Kind, err)
	}
	return ev, nil
}
