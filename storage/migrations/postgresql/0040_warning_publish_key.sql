-- PostgreSQL form of ../0040_warning_publish_key.sql: the same tables, columns and indexes.
-- A warning's publish key is decided when the officer is shown the confirmation and stored in the
-- conversation: a "publish" handled again after a crash finds the same warning (and so the same
-- outbox campaign and dedupe keys) instead of creating a second one and sending it twice.
ALTER TABLE office_warnings ADD COLUMN publish_key TEXT;
CREATE UNIQUE INDEX office_warnings_publish_key ON office_warnings(publish_key);
