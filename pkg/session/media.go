package session

import (
	"context"
	"errors"
	"os"
)

// Errors of media downloads.
var (
	// ErrMediaExpired: WhatsApp's media server no longer has the file at
	// its direct path (HTTP 404 or 410); a media retry (RetryMedia) asks
	// the phone to upload it again.
	ErrMediaExpired = errors.New("session: media expired on WhatsApp's servers")
	// ErrMediaGone: the phone no longer has the file either; it cannot be
	// fetched.
	ErrMediaGone = errors.New("session: media no longer available on the phone")
)

// MediaRef is what a driver needs to download the file of a media message
// again, as WhatsApp describes it (whatsmeow's DownloadableMessage), plus
// the message a media retry names. Drivers set it on the Inbound of a
// received media message; the worker stores it with the message.
type MediaRef struct {
	// Kind is image, video, audio, document or sticker.
	Kind          string
	DirectPath    string
	MediaKey      []byte
	FileEncSHA256 []byte
	FileSHA256    []byte
	FileLength    int64
	MIME          string
	FileName      string
	// Thumbnail is the JPEG preview the message carries, if any.
	Thumbnail []byte
	// Seconds is the length of audio and video, when the message says;
	// Waveform a voice note's (64 values from 0 to 100), when it has one.
	Seconds  uint32
	Waveform []byte

	// The message: WhatsApp's id, its chat and author (JIDs), whether this
	// account sent it, whether the chat is a group.
	MessageID string
	Chat      string
	Sender    string
	FromMe    bool
	IsGroup   bool
}

// MediaDownloader is the optional capability of sessions that download
// media. Unlike the other Session methods, its methods are safe for
// concurrent use: the worker runs downloads beside the mailbox.
type MediaDownloader interface {
	// DownloadMedia writes the decrypted file of ref into f (an empty
	// temporary file; the file is never held in memory whole). It returns
	// ErrMediaExpired when the direct path no longer serves the file.
	DownloadMedia(ctx context.Context, ref MediaRef, f *os.File) error
	// RetryMedia asks the phone to upload the file of an expired ref again
	// (a media retry receipt) and returns its new direct path once the
	// phone answered; ErrMediaGone when the phone no longer has it.
	RetryMedia(ctx context.Context, ref MediaRef) (directPath string, err error)
}
