package sim

import (
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
	wm "github.com/wagate/wagate/pkg/session/whatsmeow"
)

// This file is the history sync of a simulated pairing. WhatsApp sends a
// newly linked device the recent history of the account's chats as
// waHistorySync.HistorySync chunks; the simulated server builds one such
// chunk, as whatsmeow receives it (conversations of WebMessageInfo, newest
// message first), and emits it with the whatsmeow driver's own translation
// (whatsmeow.EmitHistory), so both drivers report a history identically:
// conversation by conversation, each once the worker recorded the one
// before.

// historyArgs are the history of a scan: Conversations direct chats with
// 155500770001, 155500770002, … of Messages messages each, one an hour
// back from now and alternately received and sent from the phone, plus
// Old messages each 40 days old (outside the default window).
type historyArgs struct {
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
	Old           int `json:"old"`
}

// HistoryChunk builds the history chunk of args at
// now, as WhatsApp sends it.
func HistoryChunk(conversations, messages, old int, now time.Time) *waHistorySync.HistorySync {
	h := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_INITIAL_BOOTSTRAP.Enum(), ChunkOrder: proto.Uint32(1), Progress: proto.Uint32(100)}
	for i := range conversations {
		phone := fmt.Sprintf("1555007%04d", i+1)
		chat := phone + "@" + UserServer
		conv := &waHistorySync.Conversation{ID: proto.String(chat), Name: proto.String(fmt.Sprintf("History %d", i+1)),
			UnreadCount: proto.Uint32(uint32(min(messages, 1))), LidJID: proto.String(LIDOf(phone))}
		add := func(j int, at time.Time) {
			fromMe := j%2 == 1
			web := &waWeb.WebMessageInfo{
				Key:              &waCommon.MessageKey{RemoteJID: proto.String(chat), FromMe: proto.Bool(fromMe), ID: proto.String(fmt.Sprintf("3EB0H%03d%04d", i, j))},
				MessageTimestamp: proto.Uint64(uint64(at.Unix())),
				Message:          &waE2E.Message{Conversation: proto.String(fmt.Sprintf("history %d.%d", i+1, j+1))},
			}
			if !fromMe {
				web.PushName = proto.String(fmt.Sprintf("History %d", i+1))
			}
			// Newest first, as WhatsApp orders them.
			conv.Messages = append([]*waHistorySync.HistorySyncMsg{{Message: web, MsgOrderID: proto.Uint64(uint64(j + 1))}}, conv.Messages...)
		}
		for j := range old {
			add(j, now.AddDate(0, 0, -40).Add(time.Duration(j)*time.Minute))
		}
		for j := range messages {
			add(old+j, now.Add(-time.Duration(messages-j)*time.Hour))
		}
		h.Conversations = append(h.Conversations, conv)
	}
	return h
}

// sendHistory emits the history of a scan once the device is online.
func (s *Session) sendHistory(gen uint64, own string, a historyArgs) {
	me, err := types.ParseJID(own)
	if err != nil {
		return
	}
	now := s.d.cfg.Now()
	data := HistoryChunk(a.Conversations, a.Messages, a.Old, now)
	err = wm.EmitHistory(data, me, now, nil, func(in session.Inbound) error { return s.emitRecorded(gen, in) })
	if err != nil && !errors.Is(err, session.ErrNotConnected) {
		s.d.cfg.Logger.Warn("simulated history not all emitted", "err", err)
	}
}

// emitRecorded emits an event of connection gen and waits until the
// worker recorded it.
func (s *Session) emitRecorded(gen uint64, in session.Inbound) error {
	done := make(chan error, 1)
	in.Ack = func(err error) {
		select {
		case done <- err:
		default:
		}
	}
	s.mu.Lock()
	if s.gen != gen || s.phase != connected {
		s.mu.Unlock()
		return session.ErrNotConnected
	}
	start := s.post(in)
	s.mu.Unlock()
	s.kick(start)
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		return errors.New("not recorded within a minute")
	}
}
