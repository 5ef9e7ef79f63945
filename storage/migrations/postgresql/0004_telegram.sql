-- PostgreSQL form of ../0004_telegram.sql: the same tables, columns and indexes.
-- Telegram channel bookkeeping (issue 6).

-- A quiz poll we sent: a poll_answer update names only the poll id, so we keep what it answers.
CREATE TABLE telegram_polls (
    poll_id        TEXT PRIMARY KEY,
    chat_id        BIGINT NOT NULL,
    message_id     BIGINT NOT NULL,
    answer_prefix  TEXT NOT NULL,          -- the button data prefix; the chosen option index is appended
    options        BIGINT NOT NULL,       -- how many options the poll has
    created_at     TEXT NOT NULL
);

-- The message that carries a stable ref (a report card) in a chat, so a newer version edits it.
CREATE TABLE telegram_message_refs (
    chat_id     BIGINT NOT NULL,
    ref         TEXT NOT NULL,
    message_id  BIGINT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (chat_id, ref)
);

-- Button data longer than Telegram's 64 bytes: the button carries "~<key>" and the data lives here.
CREATE TABLE telegram_callback_data (
    key         TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- A group that became a supergroup (migrate_to_chat_id): old id -> new id.
CREATE TABLE telegram_chat_migrations (
    old_chat_id  BIGINT PRIMARY KEY,
    new_chat_id  BIGINT NOT NULL,
    migrated_at  TEXT NOT NULL
);
