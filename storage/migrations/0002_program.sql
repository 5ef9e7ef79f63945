-- The daily program (issue 4): weekly warnings sent, contests and their results.
-- Pledges, check-ins and quiz attempts live in 0001_core.sql; campaign pushes are outbox rows
-- whose campaign column names them ('checkin:<day>', 'warning:<day>', 'campaign:<id>:<window start>').

-- Each case story a person was sent as a weekly (or campaign) warning: never the same story twice.
CREATE TABLE warnings_sent (
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    case_id      TEXT NOT NULL,           -- a case id of the content library
    fraud_type   TEXT NOT NULL,
    sent_on      TEXT NOT NULL,           -- local day 'YYYY-MM-DD' it was queued
    chosen       INTEGER,                 -- the "what would you do" option pressed (0-based), if any
    correct      INTEGER,                 -- 1 when that option was the right one
    answered_at  TEXT,
    PRIMARY KEY (person_id, case_id)
);
CREATE INDEX warnings_sent_day ON warnings_sent(sent_on);

-- A timed contest started by the security office (whole school or a college) or a monitor (their class).
CREATE TABLE contests (
    id                    INTEGER PRIMARY KEY,
    started_by            INTEGER REFERENCES people(id) ON DELETE SET NULL,
    scope                 TEXT NOT NULL CHECK (scope IN ('school', 'college', 'class')),
    scope_value           TEXT NOT NULL DEFAULT '',   -- the college name or the class id; '' for the school
    questions             TEXT NOT NULL,              -- JSON list of quiz question ids, the same for everyone
    seconds_per_question  INTEGER NOT NULL,
    status                TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at            TEXT NOT NULL,
    closes_at             TEXT NOT NULL,
    closed_at             TEXT
);

-- One finished entry per person and contest (the ledger reads this).
CREATE TABLE contest_results (
    contest_id   INTEGER NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    attempt_id   INTEGER REFERENCES quiz_attempts(id) ON DELETE SET NULL,
    class_id     INTEGER,
    college      TEXT NOT NULL DEFAULT '',
    correct      INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    score        INTEGER NOT NULL,            -- 0-100
    elapsed_s    REAL NOT NULL,               -- time from the first question to the last answer (ties)
    finished_at  TEXT NOT NULL,
    PRIMARY KEY (contest_id, person_id)
);
CREATE INDEX contest_results_board ON contest_results(contest_id, score DESC, elapsed_s);

-- Speeds up the check-in rotation and the daily/weekly audience queries.
CREATE INDEX checkins_person_day ON checkins(person_id, day);
