-- Several sender processes share one outbox (issue 18): each claim records who holds the row and
-- until when; a row still in flight past its lease (its process was killed) may be claimed again.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
CREATE INDEX outbox_leases ON outbox(channel, lease_until) WHERE state = 'inflight';
-- A claim takes the first due rows in (priority, id) order: with this index it reads them in order and
-- stops at the batch, where outbox_due (ordered by not_before) made every claim sort the whole queue
-- (a million pending rows: a sequential scan and a sort per claim of 500).
CREATE INDEX outbox_claim ON outbox(channel, state, priority, id);

-- A channel's send slots and 429 pause, shared by every sender process (times are the database
-- server's epoch seconds, so the processes' clocks need not agree). SQLite keeps its limits in
-- memory (one server per file); the tables exist here so both engines hold the same schema.
CREATE TABLE send_rates (
    channel       TEXT PRIMARY KEY,
    next_slot     REAL NOT NULL DEFAULT 0,
    paused_until  REAL NOT NULL DEFAULT 0
);
CREATE TABLE send_rate_addresses (
    channel       TEXT NOT NULL,
    address       TEXT NOT NULL,
    next_at       REAL NOT NULL DEFAULT 0,
    paused_until  REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, address)
);
CREATE INDEX send_rate_addresses_paused ON send_rate_addresses(channel, paused_until);
