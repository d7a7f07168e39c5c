// Package preview computes what WhatsApp shows of a media message before
// its file is fetched: the JPEG thumbnail of an image and the length and
// waveform of a voice note. Phones show a blank tile for an image without
// JPEGThumbnail and "0:00" with a flat line for a voice note without
// Seconds and Waveform, so both drivers (whatsmeow and the simulator) set
// them from the file they send, through this package, and agree byte for
// byte.
//
// Only the standard library is used: images are decoded with image/jpeg and
// image/png (other formats, such as WebP stickers, get no thumbnail), and
// voice notes are read from their Ogg container without decoding Opus.
//
// Thumbnail: the image scaled down with a box filter (each thumbnail pixel
// is the mean of the source pixels it covers) so that its longer side is
// ThumbnailSide pixels, encoded as JPEG at ThumbnailQuality. Baileys sends
// 32 px wide at quality 50, GOWA 100 px wide; WhatsApp shows the thumbnail
// blurred until the file arrives, so a few kilobytes suffice.
//
// Seconds: the granule position of the last Ogg page minus the pre-skip of
// the OpusHead header, in 48 kHz samples (RFC 7845 §4), rounded up to whole
// seconds as WhatsApp's apps show them.
//
// Waveform: 64 values from 0 to 100, like the bars WhatsApp draws. Without
// an Opus decoder the loudness is not measured; what is measured is the
// encoder's bit rate over time: the bytes of the Opus packets falling into
// each 1/64 of the note (each packet's length from its TOC byte, RFC 6716
// §3.1), divided by the time they cover, scaled so the busiest slice is 100.
// With the variable bit rate every voice encoder uses (libopus's default,
// WhatsApp's own recorder) silence and pauses cost a few bytes per frame and
// speech tens, so the bars rise and fall where the voice does; a file
// encoded at a constant bit rate gives a flat waveform. Callers that have
// the real waveform pass it in the send request instead.
package preview
