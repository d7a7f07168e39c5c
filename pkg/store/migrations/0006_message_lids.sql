-- WhatsApp addresses many chats and senders by LID (…@lid). chat and
-- sender stay one key per conversation (the phone-number JID when known,
-- else the LID); chat_lid and sender_lid keep the LID WhatsApp used, so a
-- conversation is found by either form.
ALTER TABLE messages ADD COLUMN chat_lid text NOT NULL DEFAULT '',
                     ADD COLUMN sender_lid text NOT NULL DEFAULT '';
CREATE INDEX messages_chat_lid ON messages (channel_id, chat_lid) WHERE chat_lid <> '';
