-- The durable inbox: every incoming platform event is written here before it is handled, so a crash
-- mid-handling loses nothing (the rows still 'received' or 'handled' are finished at the next start)
-- and a platform's retry of an event already taken in is not handled twice.
-- Times are UTC ISO-8601 text like the core tables.
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY,
    platform     TEXT NOT NULL,              -- wechat_oa, wecom, telegram
    event_key    TEXT NOT NULL UNIQUE,       -- e.g. 'wechat_oa:id:<MsgId>', 'telegram:<update_id>'
    incoming     TEXT,                       -- the neutral Incoming as JSON (NULL until the adapter converted it)
    raw          TEXT,                       -- the adapter's own form of the event (callback XML, update JSON)
    reply_to     TEXT NOT NULL DEFAULT '',   -- the channel address the replies go to (chat id, OpenID)
    state        TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'handled', 'replied', 'failed')),
    replies      TEXT,                       -- the handler's Outgoing list as JSON, once handled
    attempts     INTEGER NOT NULL DEFAULT 0, -- recoveries tried; a row that keeps failing is set aside
    error        TEXT,
    received_at  TEXT NOT NULL,
    handled_at   TEXT
);
CREATE INDEX inbox_open ON inbox(platform, state) WHERE state IN ('received', 'handled');
CREATE INDEX inbox_replied_at ON inbox(state, received_at);

-- The inbox replaces the WeChat callback dedupe: wechat_seen marked a callback seen before it was
-- handled, so a crash mid-handling lost the message and WeChat's retry of it was then ignored.
DROP TABLE wechat_seen;
