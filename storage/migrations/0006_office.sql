-- The office (issue 8): class activity logs, reminders, case warnings sent now, and the aggregates
-- that keep /stats fast on a whole school. The ledger (台账) reads these tables as they are.

-- The weekly dorm talk (寝室恳谈会, kind 'dorm_talk') and the monthly themed class meeting
-- (主题班会, kind 'class_meeting'), logged by a monitor or counsellor with /log.
CREATE TABLE class_logs (
    id           INTEGER PRIMARY KEY,
    class_id     INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('dorm_talk', 'class_meeting')),
    held_on      TEXT NOT NULL,            -- local day 'YYYY-MM-DD' it took place
    topic        TEXT NOT NULL,
    attendance   INTEGER NOT NULL,         -- people present
    photo_path   TEXT,                     -- relative to general.evidence_dir, when a photo was sent
    logged_by    INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX class_logs_class ON class_logs(class_id, kind, held_on);
CREATE INDEX class_logs_day ON class_logs(held_on);

-- Each /remind a monitor or counsellor sent: one row per class, item and press (the ledger lists them).
-- The pushes themselves are outbox rows with dedupe key remind:<item>:<person>:<day>.
CREATE TABLE class_reminders (
    id           INTEGER PRIMARY KEY,
    class_id     INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    item         TEXT NOT NULL CHECK (item IN ('pledge', 'checkin', 'quiz')),
    day          TEXT NOT NULL,            -- local day
    missing      INTEGER NOT NULL,         -- people of the class missing the item
    queued       INTEGER NOT NULL,         -- pushes newly queued (the rest were reminded already or unreachable)
    sent_by      INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX class_reminders_day ON class_reminders(day);

-- Case warnings published at once by the security office with /warn (outbox campaign 'officewarn:<id>').
CREATE TABLE office_warnings (
    id           INTEGER PRIMARY KEY,
    case_id      TEXT,                     -- a library case, or NULL for a text typed in the chat
    body         TEXT,                     -- the typed text (NULL for a library case)
    audience     TEXT NOT NULL,            -- what was chosen: all, a tag, a college or a class name
    audience_size INTEGER NOT NULL,        -- people in the audience when confirmed
    queued       INTEGER NOT NULL,
    unreachable  INTEGER NOT NULL,         -- people in the audience with no reachable account
    sent_by      INTEGER REFERENCES people(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX office_warnings_at ON office_warnings(created_at);

-- One row per person and day with a check-in answer (checkins has one row per question), kept by a
-- trigger, and its per-day, per-class count: the school's check-in rate reads a few thousand rows
-- instead of millions.
CREATE TABLE checkin_days (
    person_id  INTEGER NOT NULL,
    day        TEXT NOT NULL,
    PRIMARY KEY (person_id, day)
) WITHOUT ROWID;

CREATE TABLE checkin_daily (
    day       TEXT NOT NULL,
    class_id  INTEGER NOT NULL,               -- 0 for people without a class
    college   TEXT NOT NULL,
    people    INTEGER NOT NULL,               -- people of the class who checked in that day
    PRIMARY KEY (day, class_id)
) WITHOUT ROWID;

INSERT INTO checkin_days (person_id, day) SELECT DISTINCT person_id, day FROM checkins;
INSERT INTO checkin_daily (day, class_id, college, people)
    SELECT d.day, COALESCE(p.class_id, 0), MAX(COALESCE(p.college, '')), COUNT(*)
    FROM checkin_days d JOIN people p ON p.id = d.person_id GROUP BY d.day, COALESCE(p.class_id, 0);

CREATE TRIGGER checkins_count_day AFTER INSERT ON checkins
BEGIN
    INSERT OR IGNORE INTO checkin_days (person_id, day) VALUES (NEW.person_id, NEW.day);
END;

CREATE TRIGGER checkin_days_count_class AFTER INSERT ON checkin_days
BEGIN
    INSERT OR IGNORE INTO checkin_daily (day, class_id, college, people)
        SELECT NEW.day, COALESCE(class_id, 0), COALESCE(college, ''), 0 FROM people WHERE id = NEW.person_id;
    UPDATE checkin_daily SET people = people + 1
        WHERE day = NEW.day AND class_id = (SELECT COALESCE(class_id, 0) FROM people WHERE id = NEW.person_id);
END;

-- Statistics: who passed the awareness test, reports by submission time, pledges by version.
CREATE INDEX quiz_attempts_passed ON quiz_attempts(person_id, finished_at) WHERE passed = 1;
CREATE INDEX quiz_attempts_finished ON quiz_attempts(kind, finished_at, score);   -- covers the average
CREATE INDEX reports_submitted ON reports(submitted_at);
CREATE INDEX pledges_version ON pledges(version, person_id);
