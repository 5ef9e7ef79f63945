-- PostgreSQL form of ../0042_servers.sql: the same tables, columns and indexes.
-- Several `wuzha serve` processes on one database (issue 18).
-- servers: each running process beats here every few seconds; an inbox row owned by a process that
-- stopped beating is another process's to finish, one owned by a live process is left to it.
CREATE TABLE servers (
    token    TEXT PRIMARY KEY,           -- random per process start
    pid      BIGINT  NOT NULL,
    host     TEXT NOT NULL,
    seen_at  TEXT NOT NULL               -- UTC ISO-8601, the last heartbeat
);
-- job_runs: one row per scheduled tick, written before the tick runs, so a tick runs once even
-- when two processes both believe for a moment that they lead.
CREATE TABLE job_runs (
    job          TEXT NOT NULL,
    tick         TEXT NOT NULL,           -- the fire time, UTC ISO-8601
    owner        TEXT NOT NULL,           -- servers.token of the process that ran it
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    PRIMARY KEY (job, tick)
);
-- inbox.owner: the process handling the event (servers.token); inbox.session: the person
-- (Incoming.session_id()), so one person's events are handled in arrival order on any process.
ALTER TABLE inbox ADD COLUMN owner TEXT;
ALTER TABLE inbox ADD COLUMN session TEXT;
CREATE INDEX inbox_session_received ON inbox(session, id) WHERE state = 'received';
