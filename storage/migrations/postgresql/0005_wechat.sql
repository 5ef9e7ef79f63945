-- PostgreSQL form of ../0005_wechat.sql: the same tables, columns and indexes.
-- WeChat Official Account and WeCom: callback dedupe and the 48 h customer-service window.
-- Times are UTC ISO-8601 text like the core tables.

-- Callbacks already taken in, so WeChat's retries (same MsgId, or same sender + CreateTime for
-- events) are answered without being handled twice. Rows older than a day are pruned.
CREATE TABLE wechat_seen (
    platform  TEXT NOT NULL,            -- wechat_oa or wecom
    msg_key   TEXT NOT NULL,            -- 'id:<MsgId>' or 'ev:<FromUserName>:<CreateTime>:<Event>'
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (platform, msg_key)
);
CREATE INDEX wechat_seen_at ON wechat_seen(seen_at);

-- The last time a person wrote to (or clicked in) an account: Official Account customer-service
-- messages may only be sent within 48 h of it.
CREATE TABLE wechat_interactions (
    platform  TEXT NOT NULL,
    user_key  TEXT NOT NULL,            -- OpenID (Official Account) or UserId (WeCom)
    last_at   TEXT NOT NULL,
    PRIMARY KEY (platform, user_key)
);
