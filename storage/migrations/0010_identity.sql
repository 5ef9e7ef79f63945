-- Identity (issue 12): how each chat's binding was proven, personal invites, and the anonymous
-- daily report quota.

-- How the account was bound: 'code' (class code + number: proves nothing a classmate could not
-- know, so never privileged rights), 'invite' (a personal single-use code), 'sso', 'wecom'
-- (the school's directory), 'operator' (bound from the command line or the console).
-- Every binding made before this migration came through the class code: marked so, and
-- privileged people among them keep student rights until they bind again with proof.
ALTER TABLE accounts ADD COLUMN proof TEXT;
ALTER TABLE accounts ADD COLUMN bound_at TEXT;
UPDATE accounts SET proof = 'code', bound_at = last_seen_at WHERE person_id IS NOT NULL;

-- Personal invites: a single-use code for one person, stored only as its SHA-256.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,          -- '#<person id>' from chat, 'os:<user>' from the command line
    created_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     INTEGER,                -- the account that bound with it
    revoked_at  TEXT
);
CREATE INDEX invites_person ON invites(person_id);

-- Reports filed per reporter per local day, keyed by an HMAC of the person id under a key made for
-- that day alone (kv 'quota_key:<day>'); the key and the rows are dropped once the day is over, so
-- no row can be traced back to a reporter, anonymous or not. Replaces report_quota.
CREATE TABLE report_quota_keyed (
    holder  TEXT NOT NULL,
    day     TEXT NOT NULL,
    filed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (holder, day)
);
DROP TABLE report_quota;
