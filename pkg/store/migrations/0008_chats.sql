-- Chats: one row per conversation of a channel (package chats), so the chat
-- list is one indexed read. The message log keeps it (the last message and
-- the unread count change in the transaction that records a message), and
-- so does WhatsApp's app state (archived, pinned, muted, read: the
-- worker's chat.updated events).
--
-- chat is the conversation's key as in the message log (the phone-number
-- JID when known, else the LID; a group's JID); chat_lid the LID WhatsApp
-- used, so a chat is found by either form.
CREATE TABLE chats (
    channel_id      text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    chat            text NOT NULL,
    chat_lid        text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    last_message_id text NOT NULL DEFAULT '',
    last_at         timestamptz NOT NULL,
    unread_count    integer NOT NULL DEFAULT 0,
    archived        boolean NOT NULL DEFAULT false,
    pinned          boolean NOT NULL DEFAULT false,
    muted_until     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, chat)
);
CREATE INDEX chats_list ON chats (channel_id, last_at DESC, chat);
CREATE INDEX chats_lid ON chats (channel_id, chat_lid) WHERE chat_lid <> '';

-- The chats of the messages recorded before this table existed.
INSERT INTO chats (channel_id, chat, chat_lid, last_message_id, last_at)
SELECT DISTINCT ON (channel_id, chat) channel_id, chat, chat_lid, id, coalesce(sent_at, created_at)
FROM messages WHERE direction = 'inbound' OR sent_at IS NOT NULL
ORDER BY channel_id, chat, coalesce(sent_at, created_at) DESC, id DESC;
