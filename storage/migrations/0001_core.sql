-- The core tables: people and their accounts, classes, conversation state,
-- the program's records, reports, the outbox and the audit log.
-- Times are UTC ISO-8601 text ('2026-11-23T12:00:00.000000+00:00'); days are local 'YYYY-MM-DD'.

CREATE TABLE classes (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    college     TEXT NOT NULL DEFAULT '',
    join_code   TEXT NOT NULL UNIQUE,
    is_demo     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    person_no     TEXT UNIQUE,            -- student or staff number; NULL once forgotten
    name          TEXT,
    college       TEXT NOT NULL DEFAULT '',
    class_id      INTEGER REFERENCES classes(id),
    dorm          TEXT,
    role          TEXT NOT NULL DEFAULT 'student'
                  CHECK (role IN ('student', 'staff', 'monitor', 'counsellor', 'security', 'admin')),
    tags          TEXT NOT NULL DEFAULT '',   -- comma separated: freshman, graduate, international, staff
    from_roster   INTEGER NOT NULL DEFAULT 0,
    opted_out     INTEGER NOT NULL DEFAULT 0,
    forgotten_at  TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX people_class ON people(class_id);
CREATE INDEX people_college ON people(college);

-- Classes a counsellor (several) or monitor (one) is responsible for.
CREATE TABLE person_classes (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    class_id   INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, class_id)
);

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    platform           TEXT NOT NULL,
    user_key           TEXT NOT NULL,
    chat_key           TEXT NOT NULL,
    person_id          INTEGER REFERENCES people(id) ON DELETE SET NULL,
    language           TEXT,
    reachable          INTEGER NOT NULL DEFAULT 1,
    unreachable_reason TEXT,
    last_seen_at       TEXT,
    bind_failures      INTEGER NOT NULL DEFAULT 0,
    bind_locked_until  TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (platform, user_key)
);
CREATE INDEX accounts_person ON accounts(person_id);

CREATE TABLE conversations (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);

-- The options last shown to an account, so "2", "B" or the option's words work without buttons.
CREATE TABLE offered_choices (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    choices     TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE pledges (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    signed_at  TEXT NOT NULL,
    UNIQUE (person_id, version)
);

CREATE TABLE checkins (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    question_id  TEXT NOT NULL,
    answer       TEXT NOT NULL CHECK (answer IN ('yes', 'no')),
    risky        INTEGER NOT NULL,
    answered_at  TEXT NOT NULL,
    UNIQUE (person_id, day, question_id)
);
CREATE INDEX checkins_day ON checkins(day, person_id);

CREATE TABLE quiz_attempts (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,              -- awareness, type, contest, review
    contest_id   INTEGER,
    fraud_type   TEXT,
    questions    TEXT NOT NULL,              -- JSON list of question ids
    total        INTEGER NOT NULL,
    correct      INTEGER NOT NULL DEFAULT 0,
    score        INTEGER,                    -- 0-100 once finished
    passed       INTEGER NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX quiz_attempts_person ON quiz_attempts(person_id, finished_at);

CREATE TABLE quiz_answers (
    attempt_id   INTEGER NOT NULL REFERENCES quiz_attempts(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    question_id  TEXT NOT NULL,
    chosen       INTEGER NOT NULL,
    correct      INTEGER NOT NULL,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (attempt_id, position)
);

CREATE TABLE reports (
    id                   INTEGER PRIMARY KEY,
    case_no              TEXT UNIQUE,
    reporter_person_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
    reporter_account_id  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    anonymous            INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'received', 'acknowledged', 'in_progress', 'resolved')),
    urgent               INTEGER NOT NULL DEFAULT 0,
    money_left           INTEGER,
    fraud_type           TEXT NOT NULL DEFAULT 'other',
    description          TEXT,
    happened_at          TEXT,
    contact_method       TEXT,
    amount_yuan          INTEGER,
    payment_method       TEXT,
    college              TEXT,
    class_id             INTEGER,
    flagged_review       INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    submitted_at         TEXT,
    escalated_at         TEXT,
    acknowledged_at      TEXT,
    acknowledged_by      INTEGER,
    assigned_to          INTEGER,
    resolved_at          TEXT,
    resolution_note      TEXT,
    office_message       TEXT
);
CREATE INDEX reports_status ON reports(status, urgent);
CREATE INDEX reports_created ON reports(created_at);

CREATE TABLE report_identifiers (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,          -- phone, url, account, qq, wechat, bank
    raw         TEXT NOT NULL,
    normalized  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX report_identifiers_norm ON report_identifiers(normalized);

CREATE TABLE report_evidence (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,          -- photo, document
    filename    TEXT NOT NULL,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE report_events (
    id               INTEGER PRIMARY KEY,
    report_id        INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    actor_person_id  INTEGER,
    action           TEXT NOT NULL,     -- submitted, escalated, reescalated, acknowledged, assigned, resolved, ...
    note             TEXT,
    at               TEXT NOT NULL
);
CREATE INDEX report_events_report ON report_events(report_id, at);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL,
    account_id   INTEGER,
    person_id    INTEGER,
    campaign     TEXT NOT NULL,
    payload      TEXT NOT NULL,          -- JSON of an Outgoing
    dedupe_key   TEXT NOT NULL UNIQUE,
    priority     INTEGER NOT NULL DEFAULT 5,   -- lower goes first; 0 for emergencies
    urgent       INTEGER NOT NULL DEFAULT 0,   -- 1: ignores quiet hours
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'inflight', 'sent', 'dead', 'undeliverable')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    claimed_at   TEXT,
    sent_at      TEXT,
    error        TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(channel, state, priority, not_before);
CREATE INDEX outbox_campaign ON outbox(campaign, state);

CREATE TABLE audit_log (
    id                 INTEGER PRIMARY KEY,
    at                 TEXT NOT NULL,
    actor_person_id    INTEGER,
    actor_account_id   INTEGER,
    action             TEXT NOT NULL,    -- report.view, export.ledger, person.forget, ...
    target             TEXT,
    detail             TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Small durable values: cached access tokens, scheduler bookkeeping.
CREATE TABLE kv (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
