package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/wagate/wagate/pkg/calls"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/netproxy"
	"github.com/wagate/wagate/pkg/presence"
	"github.com/wagate/wagate/pkg/secretbox"
)

// Keys of a channel's settings. Each overrides a fleet-wide default; a key
// absent from the settings means "use the default".
const (
	// SettingSendRate is the outbound limit, e.g. "60/m" (WAGATE_SEND_RATE).
	SettingSendRate = "send_rate"
	// SettingWarmupDays is the warm-up period in days, 0–365 (WAGATE_WARMUP_DAYS).
	SettingWarmupDays = "warmup_days"
	// SettingTypingMS is how long to show "typing…" before a send, 0–30000 ms.
	SettingTypingMS = "typing_ms"
	// SettingMaxQueue bounds the channel's messages waiting to be sent;
	// beyond it a send answers 429 (1–100000, default 1000).
	SettingMaxQueue = "max_queue"
	// SettingRejectCalls rejects incoming calls automatically (package
	// calls); SettingRejectCallsReply is a text sent to the caller then.
	SettingRejectCalls      = "reject_calls"
	SettingRejectCallsReply = "reject_calls_reply"
	// SettingHistoryDays is how many days of the history WhatsApp sends
	// after pairing are imported (package history), 0–3650, default 30.
	SettingHistoryDays = "history_days"
	// SettingMedia is {"auto_download": {"types": [...], "max_bytes": n}}:
	// the media types fetched as soon as they arrive, up to max_bytes
	// (default image, audio and document up to 16 MB); the others are
	// fetched on the first GET of their url.
	SettingMedia = "media"
	// SettingPresence is {"online": bool}: whether the channel shows
	// itself online after connecting and follows its recent chats' presence
	// (package presence; default online). It applies from the next
	// connection.
	SettingPresence = "presence"
	// SettingProxy is the proxy the channel reaches WhatsApp through:
	// socks5://, http:// or https:// with optional user:password (package
	// netproxy). The settings keep it masked (the password as ***); the
	// whole URL is stored sealed (store.Channel.Proxy). It applies from the
	// next connection: PATCH reconnects a running channel that it changes.
	SettingProxy = "proxy"
)

// settingsPatch is a validated change of settings: keys to set (normalized
// JSON values) and keys to remove (sent as null).
type settingsPatch struct {
	set    map[string]json.RawMessage
	remove []string
	// proxy is the sealed proxy URL to store ("" removes it); nil leaves
	// it unchanged.
	proxy *string
}

// json returns the keys to set as one JSON object.
func (p settingsPatch) json() json.RawMessage {
	if len(p.set) == 0 {
		return json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(p.set) // map of valid RawMessages: cannot fail
	return b
}

// parseSettings validates the settings member of a request. raw is nil
// when the member was absent. A null member, in PATCH, removes every
// override (removeAll). box seals a proxy URL; current is the channel's
// settings.proxy as stored (masked), "" when none or at creation.
func parseSettings(raw json.RawMessage, box *secretbox.Box, current string) (p settingsPatch, removeAll bool, err *httpapi.Error) {
	p.set = map[string]json.RawMessage{}
	if raw == nil {
		return p, false, nil
	}
	if isNull(raw) {
		return p, true, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return p, false, fieldType("settings", "an object")
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		field := "settings." + key
		v := m[key]
		if isNull(v) && validSetting(key) {
			p.remove = append(p.remove, key)
			if key == SettingProxy {
				p.proxy = new(string)
			}
			continue
		}
		switch key {
		case SettingSendRate:
			var s string
			if json.Unmarshal(v, &s) != nil {
				return p, false, fieldType(field, "a string")
			}
			r, perr := config.ParseRate(s)
			if perr != nil {
				return p, false, httpapi.Validation(field, "%v", perr)
			}
			p.set[key], _ = json.Marshal(r.String())
		case SettingWarmupDays:
			n, e := intSetting(field, v, 0, 365)
			if e != nil {
				return p, false, e
			}
			p.set[key] = n
		case SettingTypingMS:
			n, e := intSetting(field, v, 0, 30000)
			if e != nil {
				return p, false, e
			}
			p.set[key] = n
		case SettingHistoryDays:
			n, e := intSetting(field, v, 0, 3650)
			if e != nil {
				return p, false, e
			}
			p.set[key] = n
		case SettingMaxQueue:
			n, e := intSetting(field, v, 1, 100000)
			if e != nil {
				return p, false, e
			}
			p.set[key] = n
		case SettingRejectCalls:
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return p, false, fieldType(field, "a boolean")
			}
			p.set[key], _ = json.Marshal(b)
		case SettingRejectCallsReply:
			var s string
			if json.Unmarshal(v, &s) != nil {
				return p, false, fieldType(field, "a string")
			}
			if err := calls.ValidReply(s); err != nil {
				return p, false, httpapi.Validation(field, "%v", err)
			}
			p.set[key], _ = json.Marshal(s)
		case SettingMedia:
			n, e := mediaSetting(field, v)
			if e != nil {
				return p, false, e
			}
			p.set[key] = n
		case SettingPresence:
			norm, err := presence.Parse(v)
			if err != nil {
				return p, false, httpapi.Validation(field, "%v", err)
			}
			p.set[key] = norm
		case SettingProxy:
			if e := p.setProxy(field, v, box, current); e != nil {
				return p, false, e
			}
		default:
			return p, false, httpapi.Errorf(http.StatusBadRequest, "unknown_field",
				"unknown field %q; settings has send_rate, warmup_days, typing_ms, max_queue, reject_calls, reject_calls_reply, history_days, media, presence and proxy", field).
				WithDetails(map[string]string{"field": field})
		}
	}
	return p, false, nil
}

// settingKeys are every key of a channel's settings.
var settingKeys = []string{SettingSendRate, SettingWarmupDays, SettingTypingMS, SettingMaxQueue,
	SettingRejectCalls, SettingRejectCallsReply, SettingHistoryDays, SettingMedia, SettingPresence, SettingProxy}

func validSetting(key string) bool { return slices.Contains(settingKeys, key) }

func intSetting(field string, v json.RawMessage, lo, hi int) (json.RawMessage, *httpapi.Error) {
	var n int
	if json.Unmarshal(v, &n) != nil {
		return nil, fieldType(field, "an integer")
	}
	if n < lo || n > hi {
		return nil, httpapi.Validation(field, "must be between %d and %d, not %d", lo, hi, n)
	}
	b, _ := json.Marshal(n)
	return b, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func fieldType(field, want string) *httpapi.Error {
	return httpapi.Errorf(http.StatusBadRequest, "invalid_field_type", "field %q must be %s", field, want).
		WithDetails(map[string]string{"field": field})
}

// mediaTypes are the kinds settings.media.auto_download may name.
var mediaTypes = []string{"image", "audio", "document", "video", "sticker"}

// mediaSetting validates settings.media.
func mediaSetting(field string, v json.RawMessage) (json.RawMessage, *httpapi.Error) {
	var m struct {
		AutoDownload *struct {
			Types    *[]string `json:"types"`
			MaxBytes *int64    `json:"max_bytes"`
		} `json:"auto_download"`
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if dec.Decode(&m) != nil {
		return nil, fieldType(field, `an object {"auto_download": {"types": [...], "max_bytes": n}}`)
	}
	if ad := m.AutoDownload; ad != nil {
		if ad.Types != nil {
			for _, t := range *ad.Types {
				if !slices.Contains(mediaTypes, t) {
					return nil, httpapi.Validation(field+".auto_download.types", "%q is not one of image, audio, document, video, sticker", t)
				}
			}
		}
		if ad.MaxBytes != nil && (*ad.MaxBytes < 0 || *ad.MaxBytes > 2<<30) {
			return nil, httpapi.Validation(field+".auto_download.max_bytes", "must be between 0 and 2147483648")
		}
	}
	b, _ := json.Marshal(m)
	return b, nil
}

// CodeInvalidProxy answers a settings.proxy that is not a proxy URL
// wagate can use (400).
const CodeInvalidProxy = "invalid_proxy"

// setProxy validates settings.proxy: the masked URL goes into the
// settings, the whole one, sealed, into p.proxy. A URL whose password is
// the mask itself (a client sending back the settings it read) keeps the
// stored password when the rest of the URL is unchanged.
func (p *settingsPatch) setProxy(field string, v json.RawMessage, box *secretbox.Box, current string) *httpapi.Error {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return fieldType(field, "a string (socks5://user:password@host:1080, http://host:3128) or null")
	}
	bad := func(msg string) *httpapi.Error {
		return httpapi.Errorf(http.StatusBadRequest, CodeInvalidProxy, "%s: %s", field, msg).
			WithDetails(map[string]string{"field": field})
	}
	u, err := netproxy.Parse(s)
	if err != nil {
		return bad(err.Error())
	}
	masked := netproxy.Mask(u)
	if pw, ok := u.User.Password(); ok && pw == netproxy.Masked {
		if masked != current {
			return bad("the password " + netproxy.Masked + " is the mask the API shows; give the real password")
		}
		p.set[SettingProxy], _ = json.Marshal(masked)
		return nil // unchanged: the stored URL stays
	}
	if box == nil {
		return httpapi.Errorf(http.StatusServiceUnavailable, "secret_key_missing",
			"this server has no WAGATE_SECRET_KEY to store a proxy with; set it and restart")
	}
	sealed, err := box.Seal(u.String())
	if err != nil {
		return httpapi.Errorf(http.StatusInternalServerError, "internal_error", "cannot seal the proxy URL")
	}
	p.set[SettingProxy], _ = json.Marshal(masked)
	p.proxy = &sealed
	return nil
}
