-- The 倒查 review of a case flagged for its loss (reports.review_threshold_yuan or more): who reviewed it,
-- the day the people involved were interviewed (约谈), what was found, the conclusion on responsibility
-- and the follow-up for the victim. A flagged case cannot be resolved without one.
CREATE TABLE report_reviews (
    id              INTEGER PRIMARY KEY,
    report_id       INTEGER NOT NULL UNIQUE REFERENCES reports(id) ON DELETE CASCADE,
    reviewer_id     INTEGER REFERENCES people(id) ON DELETE SET NULL,
    interviewed_on  TEXT NOT NULL,          -- local day 'YYYY-MM-DD' of the 约谈
    findings        TEXT NOT NULL,
    responsibility  TEXT NOT NULL,
    follow_up       TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
