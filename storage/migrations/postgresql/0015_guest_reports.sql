-- PostgreSQL form of ../0015_guest_reports.sql: the same tables, columns and indexes.
-- An urgent report from someone not yet bound: the office is told the reporter is unverified and gets
-- the phone number they gave to be called back on (the least that lets the office reach them).
ALTER TABLE reports ADD COLUMN unverified BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN callback_phone TEXT;
