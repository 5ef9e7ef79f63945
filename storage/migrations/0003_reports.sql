-- Reports (issue 5): escalation bookkeeping, per-person daily quota, campaign alerts.
-- The core tables reports, report_identifiers, report_evidence and report_events are in 0001_core.sql.

-- The reporter's language: pushes about the case (status, care follow-ups) use it.
ALTER TABLE reports ADD COLUMN lang TEXT NOT NULL DEFAULT 'zh';
-- How many times the card was posted again because nobody acknowledged it (re-escalations).
ALTER TABLE reports ADD COLUMN escalation_count INTEGER NOT NULL DEFAULT 0;
-- When the escalation job looks at the case next; NULL once acknowledged or after the fallback.
ALTER TABLE reports ADD COLUMN next_escalation_at TEXT;
-- Bumped each time the card is sent again, so every version has its own outbox dedupe key.
ALTER TABLE reports ADD COLUMN card_version INTEGER NOT NULL DEFAULT 0;
-- The form was finished (preview confirmed); urgent reports are escalated before that.
ALTER TABLE reports ADD COLUMN form_complete INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reports_escalation ON reports(status, next_escalation_at);
CREATE INDEX reports_reporter ON reports(reporter_person_id, status);
CREATE INDEX report_identifiers_report ON report_identifiers(report_id);

-- Reports filed per person per local day, for the abuse limit (reports.max_per_day).
-- Kept apart from reports so an anonymous report carries no link back to its reporter.
CREATE TABLE report_quota (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    day        TEXT NOT NULL,          -- local 'YYYY-MM-DD'
    filed      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (person_id, day)
);

-- "Possible campaign" alerts: one identifier in campaign_alert_reports or more reports within
-- campaign_alert_days. colleges is a JSON list of the affected colleges; sent_* record the one-tap warning.
CREATE TABLE report_campaign_alerts (
    id            INTEGER PRIMARY KEY,
    normalized    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    first_case_no TEXT NOT NULL,       -- the oldest report of the cluster (the alert's dedupe anchor)
    report_count  INTEGER NOT NULL,
    fraud_type    TEXT NOT NULL,       -- the most frequent type among the reports
    colleges      TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    sent_at       TEXT,
    sent_by       INTEGER,
    sent_count    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (normalized, first_case_no)
);
