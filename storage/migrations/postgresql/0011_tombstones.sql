-- PostgreSQL form of ../0011_tombstones.sql: the same tables, columns and indexes.
-- Erasure (issue 12): a forgotten person's number is kept only as a keyed hash (HMAC under the
-- random kv 'tombstone_key'), so a later roster import skips them unless told to restore them.
CREATE TABLE tombstones (
    number_hash  TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL
);
