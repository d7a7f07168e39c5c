package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Postgres refuses U+0000 in text and jsonb, and invalid UTF-8 anywhere.
// What WhatsApp delivers is not validated by anyone before it is
// recorded, so a message carrying such text would be refused by the
// database and lost; SanitizeMessage makes it storable instead.

// SanitizeText returns s without U+0000 and with each invalid UTF-8
// sequence replaced by U+FFFD.
func SanitizeText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// SanitizeJSON returns raw with every string and key sanitized (see
// SanitizeText); raw is returned as is when it holds nothing to change
// or is not JSON.
func SanitizeJSON(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(raw, []byte(`\u0000`)) && !bytes.Contains(raw, []byte{0}) && utf8.Valid(raw) {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.ToValidUTF8(raw, []byte("\uFFFD"))))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	out, err := json.Marshal(sanitizeValue(v))
	if err != nil {
		return raw
	}
	return out
}

func sanitizeValue(v any) any {
	switch x := v.(type) {
	case string:
		return SanitizeText(x)
	case []any:
		for i := range x {
			x[i] = sanitizeValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[SanitizeText(k)] = sanitizeValue(e)
		}
		return out
	}
	return v
}

// SanitizeMessage makes the text of a received message storable (see
// SanitizeText); it is pure and changes m in place.
func SanitizeMessage(m *Message) {
	m.Chat = SanitizeText(m.Chat)
	m.Sender = SanitizeText(m.Sender)
	m.Type = SanitizeText(m.Type)
	m.WAID = SanitizeText(m.WAID)
	m.Body = SanitizeJSON(m.Body)
}
