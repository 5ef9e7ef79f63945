-- School single sign-on (issue 12): one-time links that send a chat through the CAS login.
-- A link is single use (used_at), valid ten minutes, bound to the chat that asked for it; only the
-- SHA-256 of its token is kept. After CAS named the person, bind_hash is the one-time key with which
-- the chat's own dispatcher binds them.
CREATE TABLE sso_links (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    used_at     TEXT,
    person_id   INTEGER REFERENCES people(id) ON DELETE CASCADE,
    bind_hash   TEXT UNIQUE,
    bound_at    TEXT
);
