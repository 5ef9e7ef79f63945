-- PostgreSQL form of ../0035_console.sql: the same tables, columns and indexes.
-- The office console (issue 17): one-time sign-in links and server-side sessions.
-- Only SHA-256 digests of the tokens are stored: a copy of the database signs nobody in.

-- A sign-in link sent by /console or printed by `wuzha console link`: single use, short-lived.
CREATE TABLE console_links (
    token_hash   TEXT PRIMARY KEY,
    person_id    BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);

-- A signed-in browser: the cookie carries the token, the row its person, language and CSRF token.
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    person_id    BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    lang         TEXT NOT NULL DEFAULT 'zh',
    flash        TEXT,                     -- the answer to the last action, shown once on the next page
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX console_sessions_person ON console_sessions(person_id);
