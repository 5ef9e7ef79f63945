"""Class activity logs, reminders and office warnings (tables of migration 0006), and the ledger's reads."""

from __future__ import annotations

from storage.db import Database
from storage.times import iso


class OfficeRepo:
    """What monitors and the security office did, for /log, /remind, /warn and the ledger."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def add_log(self, class_id: int, kind: str, held_on: str, topic: str, attendance: int,
                      photo_path: str | None, logged_by: int | None) -> int:
        """Record a dorm talk or class meeting; return its id."""
        return await self.db.execute(
            "INSERT INTO class_logs (class_id, kind, held_on, topic, attendance, photo_path, logged_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (class_id, kind, held_on, topic, attendance, photo_path, logged_by, iso(self.clock.now())),
        )

    async def logged_since(self, class_id: int, kind: str, first_day: str) -> bool:
        """Whether a class logged this kind of activity on or after first_day."""
        value = await self.db.fetchval(
            "SELECT 1 FROM class_logs WHERE class_id = ? AND kind = ? AND held_on >= ? LIMIT 1",
            (class_id, kind, first_day),
        )
        return value is not None

    async def logs_between(self, first_day: str, last_day: str, college: str = ""):
        """Logged activities held between two local days, with class name and college."""
        return await self.db.fetchall(
            "SELECT l.*, c.name AS class_name, c.college FROM class_logs l JOIN classes c ON c.id = l.class_id"
            " WHERE l.held_on >= ? AND l.held_on <= ? AND (? = '' OR c.college = ?) ORDER BY l.held_on, l.id",
            (first_day, last_day, college, college),
        )

    async def add_reminder(self, class_id: int, item: str, day: str, missing: int, queued: int,
                           sent_by: int | None) -> None:
        """Record one /remind for a class."""
        await self.db.execute(
            "INSERT INTO class_reminders (class_id, item, day, missing, queued, sent_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (class_id, item, day, missing, queued, sent_by, iso(self.clock.now())),
        )

    async def reminders_between(self, first_day: str, last_day: str, college: str = ""):
        """Reminders sent between two local days."""
        return await self.db.fetchall(
            "SELECT m.*, c.name AS class_name, c.college FROM class_reminders m JOIN classes c ON c.id = m.class_id"
            " WHERE m.day >= ? AND m.day <= ? AND (? = '' OR c.college = ?) ORDER BY m.day, m.id",
            (first_day, last_day, college, college),
        )

    async def add_warning(self, case_id: str | None, body: str | None, audience: str, audience_size: int,
                          sent_by: int | None, publish_key: str | None = None) -> int:
        """Record a warning about to be published; return its id (the outbox campaign is officewarn:<id>).

        With a publish_key already recorded (the same publish handled again), that warning's id.
        """
        async with self.db.transaction() as conn:
            async with conn.execute(
                "INSERT INTO office_warnings (case_id, body, audience, audience_size, queued, unreachable,"
                " sent_by, created_at, publish_key) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?) ON CONFLICT DO NOTHING"
                " RETURNING id",
                (case_id, body, audience, audience_size, sent_by, iso(self.clock.now()), publish_key),
            ) as cursor:
                inserted = await cursor.fetchone()
            if inserted is not None:
                return inserted[0]
            async with conn.execute("SELECT id FROM office_warnings WHERE publish_key = ?", (publish_key,)) as cursor:
                return (await cursor.fetchone())[0]

    async def finish_warning(self, warning_id: int, queued: int, unreachable: int) -> None:
        """Store how many pushes a warning queued."""
        await self.db.execute("UPDATE office_warnings SET queued = ?, unreachable = ? WHERE id = ?",
                              (queued, unreachable, warning_id))

    async def warning(self, warning_id: int):
        """One office warning row."""
        return await self.db.fetchone("SELECT * FROM office_warnings WHERE id = ?", (warning_id,))

    async def warnings_between(self, since: str, until: str):
        """Office warnings published in [since, until)."""
        return await self.db.fetchall(
            "SELECT * FROM office_warnings WHERE created_at >= ? AND created_at < ? ORDER BY id", (since, until)
        )

    async def weekly_warnings_between(self, first_day: str, last_day: str):
        """(day, case_id, fraud_type, people, answered) of the scheduled case warnings sent between two days."""
        return await self.db.fetchall(
            "SELECT sent_on, case_id, MAX(fraud_type), COUNT(*), COUNT(answered_at) FROM warnings_sent"
            " WHERE sent_on >= ? AND sent_on <= ? GROUP BY sent_on, case_id ORDER BY sent_on, case_id",
            (first_day, last_day),
        )

    async def contests_between(self, since: str, until: str):
        """Contests started in [since, until) with their number of entries and average score."""
        return await self.db.fetchall(
            "SELECT c.id, c.scope, c.scope_value, c.created_at, c.started_by, COUNT(r.person_id) AS entries,"
            " AVG(r.score) AS average FROM contests c LEFT JOIN contest_results r ON r.contest_id = c.id"
            " WHERE c.created_at >= ? AND c.created_at < ? GROUP BY c.id ORDER BY c.id", (since, until),
        )

    async def campaign_warnings_between(self, since: str, until: str):
        """Warnings sent from a possible-campaign alert's draft in [since, until)."""
        return await self.db.fetchall(
            "SELECT id, normalized, kind, fraud_type, colleges, report_count, sent_at, sent_by, sent_count"
            " FROM report_campaign_alerts WHERE sent_at >= ? AND sent_at < ? ORDER BY sent_at", (since, until))

    async def reports_between(self, since: str, until: str, college: str = ""):
        """Reports submitted in [since, until), with class name (no reporter identity)."""
        return await self.db.fetchall(
            "SELECT r.id, r.case_no, r.submitted_at, r.fraud_type, r.urgent, r.amount_yuan, r.college,"
            " c.name AS class_name, r.status, r.acknowledged_at, r.resolved_at, r.resolution_note,"
            " r.flagged_review, r.assigned_to, r.happened_at, r.happened_ts, r.happened_precision, r.money_left,"
            " r.amount_currency, r.amount_original,"
            " (SELECT " + self.db.string_agg("i.normalized", "'; '") + " FROM report_identifiers i WHERE i.report_id = r.id)"
            " AS identifiers FROM reports r LEFT JOIN classes c ON c.id = r.class_id"
            " WHERE r.status != 'draft' AND r.submitted_at >= ? AND r.submitted_at < ? AND (? = '' OR r.college = ?)"
            " ORDER BY r.submitted_at, r.id", (since, until, college, college),
        )

    async def report_events_between(self, since: str, until: str) -> dict[int, list]:
        """report id -> its events (action, note, at) for reports submitted in [since, until)."""
        rows = await self.db.fetchall(
            "SELECT e.report_id, e.action, e.note, e.at FROM report_events e JOIN reports r ON r.id = e.report_id"
            " WHERE r.submitted_at >= ? AND r.submitted_at < ? ORDER BY e.report_id, e.at, e.id", (since, until),
        )
        events: dict[int, list] = {}
        for row in rows:
            events.setdefault(row[0], []).append((row[1], row[2], row[3]))
        return events

    async def log_keepers(self) -> list[tuple[int, str, int]]:
        """(class id, class name, person id) of whoever keeps each class's log: its monitors, else its counsellors."""
        rows = await self.db.fetchall(
            "WITH links AS (SELECT c.id AS class_id, c.name, p.id AS person_id, p.role FROM people p JOIN classes c ON"
            " (c.id IN (SELECT class_id FROM person_classes WHERE person_id = p.id) OR c.id = p.class_id)"
            " WHERE p.role IN ('monitor', 'counsellor') AND p.forgotten_at IS NULL)"
            " SELECT DISTINCT class_id, name, person_id FROM links l WHERE role = 'monitor' OR NOT EXISTS"
            " (SELECT 1 FROM links m WHERE m.class_id = l.class_id AND m.role = 'monitor')"
            " ORDER BY class_id, person_id"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def reachable_people(self) -> set[int]:
        """People with at least one reachable chat account."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT person_id FROM accounts WHERE person_id IS NOT NULL AND reachable = 1"
        )
        return {r[0] for r in rows}
