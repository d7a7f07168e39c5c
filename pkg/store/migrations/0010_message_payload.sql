-- The message exactly as the driver sent it (whatsmeow: the protobuf, with
-- its media keys and poll secret), so that a recipient's device asking for
-- a resend (a retry receipt) gets the message after a reconnect or a
-- failover, when the sending client's memory of it is gone.
ALTER TABLE messages ADD COLUMN wa_payload bytea;
