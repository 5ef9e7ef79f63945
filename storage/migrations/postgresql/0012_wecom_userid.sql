-- PostgreSQL form of ../0012_wecom_userid.sql: the same tables, columns and indexes.
-- WeCom directory binding (issue 12): the member's WeCom userid when it is not their person number.
ALTER TABLE people ADD COLUMN wecom_userid TEXT;
CREATE UNIQUE INDEX people_wecom_userid ON people(wecom_userid) WHERE wecom_userid IS NOT NULL;
