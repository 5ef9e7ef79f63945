-- PostgreSQL form of ../0027_report_time_currency.sql: the same tables, columns and indexes.
-- What the reporter typed is kept (happened_at, amount as yuan); beside it, what it was read as:
-- the moment in UTC and how precise the words were, and a foreign amount in its own currency.
ALTER TABLE reports ADD COLUMN happened_ts TEXT;            -- UTC ISO, NULL when the words named no time
ALTER TABLE reports ADD COLUMN happened_precision TEXT;     -- minute, hour or day
ALTER TABLE reports ADD COLUMN amount_currency TEXT;        -- ISO code when the loss was not in yuan
ALTER TABLE reports ADD COLUMN amount_original TEXT;        -- the amount in that currency (decimal text)
