package media

import "net/url"

// Info is the "media" member of message.received, message.media_stored
// and the message list: what the file is and where to fetch it.
type Info struct {
	MIME     string `json:"mime"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256,omitempty"`
	FileName string `json:"file_name,omitempty"`
	// URL is the API route serving the file (relative to the API's base
	// URL; it answers 202 while the file is pending).
	URL string `json:"url"`
	// Status is pending, stored, expired or failed.
	Status string `json:"status"`
	// PresignedURL fetches the file straight from an S3 store without
	// credentials, for a short while (only with S3, once stored).
	PresignedURL string `json:"presigned_url,omitempty"`
	// Thumbnail is the JPEG preview the message carries (base64 in JSON).
	Thumbnail []byte `json:"thumbnail,omitempty"`
	// Seconds is the length of audio and video, when the message says.
	Seconds int `json:"seconds,omitempty"`
	// Waveform is a voice note's: 64 values from 0 to 100.
	Waveform []int `json:"waveform,omitempty"`
}

// Path is the API route of a message's file.
func Path(channelID, messageID string) string {
	return "/v1/channels/" + url.PathEscape(channelID) + "/messages/" + url.PathEscape(messageID) + "/media"
}
