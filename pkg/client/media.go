package client

import "encoding/json"

// MediaSettings say what a channel's worker fetches from WhatsApp as soon
// as it arrives; other media is fetched on the first GetMessageMedia.
type MediaSettings struct {
	AutoDownload *MediaAutoDownload `json:"auto_download,omitempty"`
}

// MediaAutoDownload is the media fetched at once.
type MediaAutoDownload struct {
	// Types are image, audio, document, video, sticker (default image,
	// audio, document).
	Types []string `json:"types,omitempty"`
	// MaxBytes: larger files wait for a request (default 16 MB).
	MaxBytes *int64 `json:"max_bytes,omitempty"`
}

// MediaInfo is the media member of a media message's body: what the file
// is and where to fetch it.
type MediaInfo struct {
	Mime     string `json:"mime,omitempty"`
	Size     int64  `json:"size,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	FileName string `json:"file_name,omitempty"`
	// URL is the GET route of the file, relative to the API.
	URL string `json:"url,omitempty"`
	// Status is pending, stored, expired or failed.
	Status string `json:"status,omitempty"`
	// PresignedURL fetches a stored file straight from an S3 store, for a
	// short time.
	PresignedURL string `json:"presigned_url,omitempty"`
	// Thumbnail is the JPEG preview the message carries.
	Thumbnail []byte `json:"thumbnail,omitempty"`
	// Seconds is the length of audio and video, when the message says.
	Seconds int `json:"seconds,omitempty"`
	// Waveform is a voice note's: 64 values from 0 to 100.
	Waveform []int `json:"waveform,omitempty"`
}

// MediaInfo returns the media member of the message's body; nil when the
// message has none.
func (m *Message) MediaInfo() (*MediaInfo, error) {
	var b struct {
		Media json.RawMessage `json:"media"`
	}
	if err := json.Unmarshal(m.Body, &b); err != nil || len(b.Media) == 0 || string(b.Media) == "null" {
		return nil, err
	}
	var mi MediaInfo
	if err := json.Unmarshal(b.Media, &mi); err != nil {
		return nil, err
	}
	return &mi, nil
}
