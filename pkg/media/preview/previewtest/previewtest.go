// Package previewtest builds media files for tests of what the preview
// package reads: Ogg/Opus voice notes with chosen packet sizes, and images.
package previewtest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// FrameSamples is the length of every packet VoiceNote writes: one 20 ms
// CELT fullband frame (TOC config 31, code 0) at 48 kHz.
const FrameSamples = 960

// PreSkip is the pre-skip VoiceNote writes in its OpusHead (libopus's).
const PreSkip = 312

// VoiceNote returns an Ogg/Opus stream as opusenc lays it out: an OpusHead
// page, an OpusTags page, then audio pages of up to 50 packets (1 s), each
// packet a 20 ms frame of the given size in bytes (at least 1: the TOC
// byte), with correct granule positions and CRCs. The frames are not
// decodable audio; the container and the TOC bytes are valid.
func VoiceNote(sizes []int) []byte {
	var out bytes.Buffer
	seq := uint32(0)
	page := func(headerType byte, granule int64, packets ...[]byte) {
		var lacing []byte
		var body []byte
		for _, p := range packets {
			n := len(p)
			for n >= 255 {
				lacing = append(lacing, 255)
				n -= 255
			}
			lacing = append(lacing, byte(n))
			body = append(body, p...)
		}
		h := make([]byte, 27, 27+len(lacing)+len(body))
		copy(h, "OggS")
		h[5] = headerType
		binary.LittleEndian.PutUint64(h[6:], uint64(granule))
		binary.LittleEndian.PutUint32(h[14:], 0x5741_4741) // serial
		binary.LittleEndian.PutUint32(h[18:], seq)
		h[26] = byte(len(lacing))
		h = append(append(h, lacing...), body...)
		binary.LittleEndian.PutUint32(h[22:], crc(h))
		out.Write(h)
		seq++
	}
	head := []byte("OpusHead\x01\x01")
	head = binary.LittleEndian.AppendUint16(head, PreSkip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0) // gain, mapping family
	page(0x02, 0, head)
	page(0, 0, append([]byte("OpusTags\x07\x00\x00\x00wagate\x00"), 0, 0, 0, 0))
	granule := int64(PreSkip)
	for i := 0; i < len(sizes); i += 50 {
		var packets [][]byte
		for _, n := range sizes[i:min(i+50, len(sizes))] {
			p := bytes.Repeat([]byte{0x5a}, max(n, 1))
			p[0] = 31 << 3 // CELT fullband 20 ms, one frame
			packets = append(packets, p)
			granule += FrameSamples
		}
		var last byte
		if i+50 >= len(sizes) {
			last = 0x04 // end of stream
		}
		page(last, granule, packets...)
	}
	return out.Bytes()
}

// crc is the Ogg page checksum: CRC-32 with polynomial 0x04c11db7, no
// reflection, initial value 0, over the page with its CRC field zero.
func crc(page []byte) uint32 {
	var c uint32
	for _, b := range page {
		c ^= uint32(b) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
	}
	return c
}

// Gradient is a w×h image going from red on the left to blue on the right.
func Gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(x * 255 / max(w-1, 1))
			img.SetRGBA(x, y, color.RGBA{R: 255 - v, B: v, G: uint8(y * 255 / max(h-1, 1)), A: 255})
		}
	}
	return img
}

// PNG encodes img as PNG.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // an in-memory RGBA always encodes
	}
	return b.Bytes()
}

// JPEG encodes img as JPEG.
func JPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return b.Bytes()
}
