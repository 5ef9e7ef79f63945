-- Baselines: a period's cases and money lost as the police reported them, entered by the office for
-- periods the database has no data for (a school's first year). Days are local 'YYYY-MM-DD', inclusive.
CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY,
    college     TEXT NOT NULL DEFAULT '',          -- '' is the whole school
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    cases       INTEGER NOT NULL CHECK (cases >= 0),
    money_yuan  INTEGER NOT NULL CHECK (money_yuan >= 0),
    source      TEXT NOT NULL DEFAULT '',          -- e.g. '派出所 2025 年通报'
    created_at  TEXT NOT NULL,
    CHECK (first_day <= last_day),
    UNIQUE (college, first_day, last_day)
);
