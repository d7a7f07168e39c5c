package preview

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// WaveformLen is the number of values of a voice note's waveform, as
// WhatsApp sends and draws it.
const WaveformLen = 64

// opusRate is the granule rate of Ogg Opus streams: 48 kHz whatever the
// input rate (RFC 7845 §4).
const opusRate = 48000

// ErrNotOpus: the bytes are not an Ogg stream carrying Opus.
var ErrNotOpus = errors.New("preview: not Ogg/Opus audio")

// Voice is what WhatsApp shows of a voice note before playing it.
type Voice struct {
	// Seconds is the length, rounded up to whole seconds.
	Seconds uint32
	// Waveform holds WaveformLen values from 0 to 100 (see the package
	// documentation for what they measure).
	Waveform []byte
}

// packet is one Opus audio packet: its size in bytes and its length in
// 48 kHz samples.
type packet struct {
	size, samples int
}

// OggOpus reads an Ogg/Opus file: its length from the granule position of
// the last page and the pre-skip of its OpusHead, and its waveform from the
// sizes of its packets. ErrNotOpus for anything else or a stream without
// audio.
func OggOpus(data []byte) (Voice, error) {
	var (
		serial    uint32
		first           = true
		granule   int64 = -1
		preSkip   int64
		headers   int // OpusHead and OpusTags come first
		pending   []byte
		packets   []packet
		malformed = func(format string, args ...any) (Voice, error) {
			return Voice{}, fmt.Errorf("%w: %s", ErrNotOpus, fmt.Sprintf(format, args...))
		}
	)
	for off := 0; off < len(data); {
		if len(data)-off < 27 || !bytes.Equal(data[off:off+4], []byte("OggS")) {
			if first {
				return malformed("no Ogg page at the start")
			}
			break // trailing bytes after the last whole page
		}
		h := data[off:]
		nseg := int(h[26])
		if len(h) < 27+nseg {
			break
		}
		lacing := h[27 : 27+nseg]
		body := 0
		for _, l := range lacing {
			body += int(l)
		}
		if len(h) < 27+nseg+body {
			break // a truncated last page: what came before counts
		}
		pageSerial := binary.LittleEndian.Uint32(h[14:18])
		if first {
			serial, first = pageSerial, false
		}
		payload := h[27+nseg : 27+nseg+body]
		off += 27 + nseg + body
		if pageSerial != serial {
			continue // another logical stream: not ours
		}
		if g := int64(binary.LittleEndian.Uint64(h[6:14])); g >= 0 {
			granule = g
		}
		if h[5]&0x01 == 0 {
			pending = pending[:0] // a page that does not continue a packet
		}
		p := 0
		for _, l := range lacing {
			pending = append(pending, payload[p:p+int(l)]...)
			p += int(l)
			if l == 255 {
				continue // the packet goes on
			}
			switch headers {
			case 0:
				if len(pending) < 19 || !bytes.Equal(pending[:8], []byte("OpusHead")) {
					return malformed("the first packet is not OpusHead")
				}
				preSkip = int64(binary.LittleEndian.Uint16(pending[10:12]))
				headers++
			case 1:
				if !bytes.HasPrefix(pending, []byte("OpusTags")) {
					return malformed("the second packet is not OpusTags")
				}
				headers++
			default:
				if n := samples(pending); n > 0 {
					packets = append(packets, packet{size: len(pending), samples: n})
				}
			}
			pending = pending[:0]
		}
	}
	if headers < 2 {
		return malformed("no Opus headers")
	}
	if len(packets) == 0 || granule <= preSkip {
		return malformed("no audio")
	}
	return Voice{
		Seconds:  uint32(math.Ceil(float64(granule-preSkip) / opusRate)),
		Waveform: waveform(packets),
	}, nil
}

// samples is the length of an Opus packet in 48 kHz samples, from its TOC
// byte (RFC 6716 §3.1); 0 for a packet that is not valid Opus.
func samples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	config := int(toc >> 3)
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	if n := frames * frame; n <= 5760 { // at most 120 ms
		return n
	}
	return 0
}

// waveform spreads the bytes of the packets over WaveformLen equal slices
// of the note (a packet straddling two slices counts in both, in
// proportion) and scales the slices so the busiest is 100.
func waveform(packets []packet) []byte {
	total := 0
	for _, p := range packets {
		total += p.samples
	}
	slices := make([]float64, WaveformLen)
	at := 0
	for _, p := range packets {
		start, end := at, at+p.samples
		at = end
		perSample := float64(p.size) / float64(p.samples)
		for i := start * WaveformLen / total; i < WaveformLen; i++ {
			lo, hi := i*total/WaveformLen, (i+1)*total/WaveformLen
			if lo >= end {
				break
			}
			overlap := min(hi, end) - max(lo, start)
			if overlap > 0 {
				slices[i] += perSample * float64(overlap)
			}
		}
	}
	peak := 0.0
	for _, v := range slices {
		peak = max(peak, v)
	}
	out := make([]byte, WaveformLen)
	if peak == 0 {
		return out
	}
	for i, v := range slices {
		out[i] = byte(math.Round(v * 100 / peak))
	}
	return out
}
