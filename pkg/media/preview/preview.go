package preview

import (
	"errors"
	"strings"
)

// Preview is what a sent media message carries besides its file: set by
// the caller of a send or computed from the file.
type Preview struct {
	// Thumbnail is a JPEG; Width and Height are the image's size (images).
	Thumbnail     []byte
	Width, Height int
	// Seconds is the length of audio and video.
	Seconds uint32
	// Waveform is a voice note's (WaveformLen values from 0 to 100).
	Waveform []byte
}

// Of completes given, the preview a send names (zero members absent), from
// the file data of a message of kind (image, video, audio, document,
// sticker) with MIME type mime, as WhatsApp's apps do:
//   - an image gets a thumbnail (ThumbnailSide px) and its size when it is
//     a JPEG or PNG; other formats send none;
//   - a video keeps what was given: its thumbnail and seconds need a video
//     decoder;
//   - an Ogg/Opus audio gets its seconds, a voice note (voice) its waveform
//     too; a voice note that is not Ogg/Opus is ErrNotOpus, since WhatsApp
//     plays nothing else as a voice note.
func Of(kind string, voice bool, mime string, data []byte, given Preview) (Preview, error) {
	p := given
	switch kind {
	case "image":
		img, err := Thumbnail(data)
		if errors.Is(err, ErrNoImage) {
			return p, nil
		}
		if err != nil {
			return p, err
		}
		p.Width, p.Height = img.Width, img.Height
		if len(p.Thumbnail) == 0 {
			p.Thumbnail = img.JPEG
		}
	case "audio":
		if p.Seconds > 0 && (!voice || len(p.Waveform) > 0) {
			return p, nil
		}
		if !voice && !strings.HasPrefix(mime, "audio/ogg") {
			return p, nil
		}
		v, err := OggOpus(data)
		if err != nil {
			if voice {
				return p, err
			}
			return p, nil // an Ogg that is not Opus: WhatsApp shows no length
		}
		if p.Seconds == 0 {
			p.Seconds = v.Seconds
		}
		if voice && len(p.Waveform) == 0 {
			p.Waveform = v.Waveform
		}
	}
	return p, nil
}
