-- Scenario drills (情景模拟): results, assignments and the follow-up warnings for missed red flags.
-- The office reads these for statistics and the ledger (台账).

-- One finished drill run per row (a person may run the same drill again; each run is kept).
CREATE TABLE drill_results (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    drill_id      TEXT NOT NULL,             -- content/drills/<drill_id>.toml
    fraud_type    TEXT NOT NULL,             -- taxonomy id of the drill
    score         INTEGER NOT NULL,          -- 0-100: share of red flags handled safely
    passed        INTEGER NOT NULL,          -- 1: ended safely with score >= the pass mark
    ending        TEXT NOT NULL,             -- id of the ending reached
    ended_safely  INTEGER NOT NULL,
    missed_flags  TEXT NOT NULL DEFAULT '[]',  -- JSON list of turn ids whose red flag was missed
    path          TEXT NOT NULL DEFAULT '[]',  -- JSON list of {turn, choice, safe}
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL
);
CREATE INDEX drill_results_person ON drill_results(person_id, drill_id);
CREATE INDEX drill_results_finished ON drill_results(finished_at);

-- A drill pushed to a person by a monitor or the security office (one row per drill and person).
CREATE TABLE drill_assignments (
    id            INTEGER PRIMARY KEY,
    drill_id      TEXT NOT NULL,
    person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    assigned_by   INTEGER REFERENCES people(id) ON DELETE SET NULL,
    audience      TEXT NOT NULL DEFAULT '',  -- what the assigner chose: a class name, a tag, a college, all
    assigned_at   TEXT NOT NULL,
    UNIQUE (drill_id, person_id)
);
CREATE INDEX drill_assignments_at ON drill_assignments(assigned_at);

-- A missed red flag earns that type's case warning in the following week (queued in the outbox
-- with not_before = the next week's weekly-warning time; this table says who gets which, and when).
CREATE TABLE drill_followups (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    fraud_type    TEXT NOT NULL,
    drill_id      TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    week          TEXT NOT NULL,             -- local date of the Monday of the week it is due
    due_at        TEXT NOT NULL,             -- UTC time it is queued for
    created_at    TEXT NOT NULL,
    UNIQUE (person_id, fraud_type, week)
);
CREATE INDEX drill_followups_week ON drill_followups(week);
