-- What a media message shows before its file is fetched, besides the
-- thumbnail: the length of audio and video (seconds, 0 when the message
-- does not say) and a voice note's waveform (64 values from 0 to 100).
-- Sent media rows get the keys of WhatsApp's upload too (written with the
-- sent status), so both directions keep the same columns.
ALTER TABLE media
    ADD COLUMN seconds  integer NOT NULL DEFAULT 0,
    ADD COLUMN waveform bytea;
