"""Incident reports, their identifiers, evidence and handling timeline."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime

from storage.db import Database
from storage.records import ReportEvent, ReportEvidence, ReportIdentifier, ReportReview
from storage.times import iso, local_day

OPEN_STATUSES = ("received", "acknowledged", "in_progress")
# A person reachable in a role: through a chat bound with proof, not only with the class code.
_PROVEN = "EXISTS (SELECT 1 FROM accounts pa WHERE pa.person_id = people.id AND COALESCE(pa.proof, '') <> 'code')"


def _holder(day_key: str, person_id: int) -> str:
    """The quota row's name for a reporter: an HMAC under a key that exists for one day only."""
    return hmac.new(bytes.fromhex(day_key), str(person_id).encode(), hashlib.sha256).hexdigest()


# Columns the form may write while it is being filled in.
FORM_FIELDS = frozenset({
    "money_left", "urgent", "fraud_type", "description", "happened_at", "contact_method", "amount_yuan",
    "payment_method", "lang", "anonymous", "flagged_review", "unverified", "callback_phone",
    "happened_ts", "happened_precision", "amount_currency", "amount_original",
})


class ReportRepo:
    """Reports: drafts, submitted cases and what the office did with them."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, report_id: int):
        """A report row by id."""
        return await self.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))

    async def by_case_no(self, case_no: str):
        """A report row by case number (R-2026-000123), case-insensitive."""
        return await self.db.fetchone("SELECT * FROM reports WHERE case_no = ?", (case_no.strip().upper(),))

    async def for_person(self, person_id: int):
        """A reporter's submitted reports, newest first."""
        return await self.db.fetchall(
            "SELECT * FROM reports WHERE reporter_person_id = ? AND status != 'draft' ORDER BY id DESC", (person_id,)
        )

    async def add_event(self, report_id: int, action: str, actor_person_id: int | None = None,
                        note: str | None = None) -> int:
        """Append to a report's handling timeline; return the event id."""
        return await self.db.execute(
            "INSERT INTO report_events (report_id, actor_person_id, action, note, at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (report_id, actor_person_id, action, note, iso(self.clock.now())),
        )

    async def events(self, report_id: int) -> list[ReportEvent]:
        """A report's timeline, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id, report_id, actor_person_id, action, note, at FROM report_events WHERE report_id = ?"
            " ORDER BY at, id", (report_id,)
        )
        return [ReportEvent(*row) for row in rows]

    # --- the form --------------------------------------------------------------------
    async def recent_urgent_case(self, person_id: int, since: str):
        """The person's newest urgent case filed since then (over-limit urgent reports are merged into it)."""
        return await self.db.fetchone(
            "SELECT * FROM reports WHERE reporter_person_id = ? AND urgent = 1 AND case_no IS NOT NULL"
            " AND submitted_at >= ? ORDER BY id DESC LIMIT 1", (person_id, since),
        )

    async def drop_draft(self, report_id: int) -> None:
        """Delete a draft that never became a case (its evidence rows go with it)."""
        await self.db.execute("DELETE FROM reports WHERE id = ? AND case_no IS NULL", (report_id,))

    async def unfinished_form(self, person_id: int, since: str):
        """The person's newest report whose form they started (answered something) and never finished."""
        return await self.db.fetchone(
            "SELECT * FROM reports WHERE reporter_person_id = ? AND form_complete = 0 AND created_at >= ?"
            " AND (money_left IS NOT NULL OR description IS NOT NULL) ORDER BY id DESC LIMIT 1",
            (person_id, since),
        )

    async def create_draft(self, person_id: int | None, account_id: int, college: str | None,
                           class_id: int | None, lang: str, fraud_type: str = "other") -> int:
        """Start a draft report for a reporter; return its id."""
        return await self.db.execute(
            "INSERT INTO reports (reporter_person_id, reporter_account_id, college, class_id, lang, fraud_type,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (person_id, account_id, college, class_id, lang, fraud_type, iso(self.clock.now())),
        )

    async def update(self, report_id: int, **fields) -> None:
        """Write form answers (only the known form columns)."""
        unknown = set(fields) - FORM_FIELDS
        if unknown:
            raise ValueError(f"not a form field: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(f"UPDATE reports SET {assignments} WHERE id = ?", (*fields.values(), report_id))

    async def add_identifiers(self, report_id: int, items) -> None:
        """Attach identifiers (handlers.identifiers.Identifier), skipping ones the report already has."""
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            for item in items:
                async with conn.execute(
                    "SELECT 1 FROM report_identifiers WHERE report_id = ? AND normalized = ?",
                    (report_id, item.normalized),
                ) as cursor:
                    if await cursor.fetchone():
                        continue
                await conn.execute(
                    "INSERT INTO report_identifiers (report_id, kind, raw, normalized, created_at)"
                    " VALUES (?, ?, ?, ?, ?)", (report_id, item.kind, item.raw, item.normalized, now),
                )

    async def identifiers(self, report_id: int) -> list[ReportIdentifier]:
        """A report's identifiers in the order given."""
        rows = await self.db.fetchall(
            "SELECT id, report_id, kind, raw, normalized, created_at FROM report_identifiers WHERE report_id = ?"
            " ORDER BY id", (report_id,))
        return [ReportIdentifier(*row) for row in rows]

    async def add_evidence(self, report_id: int, kind: str, filename: str, path: str, size: int,
                           sha256: str) -> bool:
        """Record an evidence file; False if the report already has the same file."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM report_evidence WHERE report_id = ? AND sha256 = ?", (report_id, sha256)
            ) as cursor:
                if await cursor.fetchone():
                    return False
            await conn.execute(
                "INSERT INTO report_evidence (report_id, kind, filename, path, size, sha256, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (report_id, kind, filename, path, size, sha256, iso(self.clock.now())),
            )
        return True

    async def evidence(self, report_id: int) -> list[ReportEvidence]:
        """A report's evidence files."""
        rows = await self.db.fetchall(
            "SELECT id, report_id, kind, filename, path, size, sha256, created_at FROM report_evidence"
            " WHERE report_id = ? ORDER BY id", (report_id,))
        return [ReportEvidence(*row) for row in rows]

    async def evidence_count(self, report_id: int) -> int:
        """How many evidence files a report has."""
        return await self.db.fetchval("SELECT COUNT(*) FROM report_evidence WHERE report_id = ?", (report_id,))

    async def filed_today(self, person_id: int, tz) -> int:
        """How many reports the person filed today (local day), anonymous ones included."""
        day = local_day(self.clock.now(), tz)
        key = await self.db.fetchval("SELECT value FROM kv WHERE key = ?", (f"quota_key:{day}",))
        if key is None:
            return 0
        value = await self.db.fetchval(
            "SELECT filed FROM report_quota_keyed WHERE holder = ? AND day = ?", (_holder(key, person_id), day)
        )
        return value or 0

    async def _count_quota(self, conn, person_id: int, day: str) -> None:
        """Count one report against the reporter's day under that day's key (made here, the old ones dropped)."""
        async with conn.execute("SELECT value FROM kv WHERE key = ?", (f"quota_key:{day}",)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            key = secrets.token_hex(32)
            await conn.execute("DELETE FROM kv WHERE key LIKE 'quota_key:%'")
            await conn.execute("DELETE FROM report_quota_keyed WHERE day <> ?", (day,))
            await conn.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)",
                               (f"quota_key:{day}", key, iso(self.clock.now())))
        else:
            key = row[0]
        await conn.execute(
            "INSERT INTO report_quota_keyed (holder, day, filed) VALUES (?, ?, 1)"
            " ON CONFLICT (holder, day) DO UPDATE SET filed = report_quota_keyed.filed + 1",
            (_holder(key, person_id), day),
        )

    async def file(self, report_id: int, tz, complete: bool, anonymous: bool = False,
                   guest_holder: int | None = None) -> str:
        """Turn a draft into a case (number, status received, quota counted) or mark the form complete.

        guest_holder: the quota holder of a reporter with no person (an unbound account's negative id).

        Returns the case number. Escalation happens after this commits; a crash in between is caught
        by the escalation sweep (escalated_at stays NULL until the card is queued).
        """
        now = self.clock.now()
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)) as cursor:
                row = await cursor.fetchone()
            case_no = row["case_no"]
            if case_no is None:
                case_no = await self._next_case_no(conn, now, tz)
                # submitted_at is when the case exists (an urgent one before its form is done): the figures
                # and the time to acknowledge count from here.
                await conn.execute(
                    "UPDATE reports SET case_no = ?, status = 'received', submitted_at = ? WHERE id = ?",
                    (case_no, iso(now), report_id),
                )
                holder = row["reporter_person_id"] if row["reporter_person_id"] is not None else guest_holder
                if holder is not None:
                    await self._count_quota(conn, holder, local_day(now, tz))
                await conn.execute(
                    "INSERT INTO report_events (report_id, action, at) VALUES (?, 'received', ?)",
                    (report_id, iso(now)),
                )
            if complete:
                # Anonymous: the link back to the person is dropped here, for good.
                detach = (", anonymous = 1, reporter_person_id = NULL, reporter_account_id = NULL, class_id = NULL"
                          if anonymous else "")
                await conn.execute(
                    f"UPDATE reports SET form_complete = 1, submitted_at = COALESCE(submitted_at, ?){detach}"
                    " WHERE id = ?",
                    (iso(now), report_id),
                )
                await conn.execute(
                    "INSERT INTO report_events (report_id, action, at) VALUES (?, 'submitted', ?)",
                    (report_id, iso(now)),
                )
        return case_no

    async def drop_abandoned_drafts(self, before: str) -> list[str]:
        """Delete drafts never filed and untouched since before; return their evidence paths to remove."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM reports WHERE status = 'draft' AND case_no IS NULL AND created_at < ?", (before,)
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            async with conn.execute(f"SELECT path FROM report_evidence WHERE report_id IN ({marks})", ids) as cursor:
                paths = [row[0] for row in await cursor.fetchall()]
            await conn.execute(f"DELETE FROM reports WHERE id IN ({marks})", ids)   # cascades to its rows
        return paths

    async def _next_case_no(self, conn, now: datetime, tz) -> str:
        year = now.astimezone(tz).year
        prefix = f"R-{year}-"
        async with conn.execute(
            "SELECT MAX(case_no) FROM reports WHERE case_no LIKE ?", (prefix + "%",)
        ) as cursor:
            last = (await cursor.fetchone())[0]
        number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
        return f"{prefix}{number:06d}"

    # --- escalation --------------------------------------------------------------------
    async def unescalated(self):
        """Cases that exist but whose card was never queued (e.g. a crash right after submit)."""
        return await self.db.fetchall(
            "SELECT * FROM reports WHERE status != 'draft' AND escalated_at IS NULL ORDER BY id"
        )

    async def due_for_reescalation(self):
        """Unacknowledged cases whose next escalation time has come."""
        return await self.db.fetchall(
            "SELECT * FROM reports WHERE status = 'received' AND next_escalation_at IS NOT NULL"
            " AND next_escalation_at <= ? ORDER BY urgent DESC, id", (iso(self.clock.now()),)
        )

    async def mark_escalated(self, report_id: int, next_at: datetime | None, count: int | None = None) -> None:
        """Record that the card went out, and when to look again (on the minute: see below)."""
        now = iso(self.clock.now())
        # The minutely job runs a few ms past each minute; a time set from its own clock (12:01:00.05 + 1 min)
        # fell due just after the next run and was seen a minute late (rungs at 1, 3, 5, 7 minutes).
        next_at = next_at.replace(second=0, microsecond=0) if next_at else None
        sql = ("UPDATE reports SET escalated_at = COALESCE(escalated_at, ?), next_escalation_at = ?"
               + (", escalation_count = ?" if count is not None else "") + " WHERE id = ?")
        params = (now, iso(next_at) if next_at else None, *((count,) if count is not None else ()), report_id)
        await self.db.execute(sql, params)

    async def next_card_version(self, report_id: int) -> int:
        """Bump and return the card version (each re-sent card gets its own dedupe key)."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE reports SET card_version = card_version + 1 WHERE id = ?", (report_id,))
            async with conn.execute("SELECT card_version FROM reports WHERE id = ?", (report_id,)) as cursor:
                return (await cursor.fetchone())[0]

    # --- office actions ----------------------------------------------------------------
    async def acknowledge(self, report_id: int, person_id: int | None) -> None:
        """The office has the case: stop re-escalating."""
        await self.db.execute(
            "UPDATE reports SET status = CASE WHEN status = 'received' THEN 'acknowledged' ELSE status END,"
            " acknowledged_at = COALESCE(acknowledged_at, ?), acknowledged_by = COALESCE(acknowledged_by, ?),"
            " next_escalation_at = NULL WHERE id = ?",
            (iso(self.clock.now()), person_id, report_id),
        )

    async def assign(self, report_id: int, assignee_id: int, actor_id: int | None) -> None:
        """Give the case to an officer (acknowledging it if nobody had)."""
        await self.acknowledge(report_id, actor_id)
        await self.db.execute(
            "UPDATE reports SET assigned_to = ?, status = CASE WHEN status = 'resolved' THEN status"
            " ELSE 'in_progress' END WHERE id = ?", (assignee_id, report_id),
        )

    async def resolve(self, report_id: int, actor_id: int | None, note: str) -> None:
        """Close the case with a note."""
        await self.acknowledge(report_id, actor_id)
        await self.db.execute(
            "UPDATE reports SET status = 'resolved', resolved_at = ?, resolution_note = ? WHERE id = ?",
            (iso(self.clock.now()), note, report_id),
        )

    async def set_office_message(self, report_id: int, message: str) -> None:
        """The message the office sends back to the reporter (shown in /myreports)."""
        await self.db.execute("UPDATE reports SET office_message = ? WHERE id = ?", (message, report_id))

    async def open_cases(self, limit: int = 30):
        """Cases not yet resolved: urgent first, then oldest."""
        return await self.db.fetchall(
            "SELECT * FROM reports WHERE status IN ('received', 'acknowledged', 'in_progress')"
            " ORDER BY urgent DESC, id LIMIT ?", (limit,)
        )

    # --- the 倒查 review ---------------------------------------------------------------------
    async def add_review(self, report_id: int, reviewer_id: int | None, interviewed_on: str, findings: str,
                         responsibility: str, follow_up: str) -> bool:
        """Record a flagged case's review; False if it already has one (a review is written once)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO report_reviews (report_id, reviewer_id, interviewed_on, findings,"
                " responsibility, follow_up, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (report_id, reviewer_id, interviewed_on, findings, responsibility, follow_up, iso(self.clock.now())))
            return cursor.rowcount == 1

    async def review(self, report_id: int) -> ReportReview | None:
        """A case's review, or None."""
        row = await self.db.fetchone(
            "SELECT id, report_id, reviewer_id, interviewed_on, findings, responsibility, follow_up, created_at"
            " FROM report_reviews WHERE report_id = ?", (report_id,))
        return None if row is None else ReportReview(*row)

    async def reviews_open(self):
        """Flagged cases still without a review, oldest first (for the reminders)."""
        return await self.db.fetchall(
            "SELECT r.* FROM reports r WHERE r.flagged_review = 1 AND r.status != 'draft' AND NOT EXISTS"
            " (SELECT 1 FROM report_reviews v WHERE v.report_id = r.id) ORDER BY r.id")

    async def reviews_between(self, since: str, until: str, college: str = ""):
        """Flagged cases submitted in [since, until) with their review (NULL columns while none)."""
        return await self.db.fetchall(
            "SELECT r.case_no, r.amount_yuan, r.college, r.status, v.reviewer_id, v.interviewed_on, v.findings,"
            " v.responsibility, v.follow_up, v.created_at AS reviewed_at FROM reports r"
            " LEFT JOIN report_reviews v ON v.report_id = r.id WHERE r.flagged_review = 1 AND r.status != 'draft'"
            " AND r.submitted_at >= ? AND r.submitted_at < ? AND (? = '' OR r.college = ?) ORDER BY r.submitted_at",
            (since, until, college, college))

    # --- lookup and campaigns ------------------------------------------------------------
    async def lookup(self, normalized: str):
        """Cases that name this identifier: (fraud_type, created_at) rows, newest first; no reporters."""
        return await self.db.fetchall(
            "SELECT DISTINCT r.id, r.fraud_type, r.created_at FROM report_identifiers i"
            " JOIN reports r ON r.id = i.report_id WHERE i.normalized = ? AND r.status != 'draft'"
            " ORDER BY r.created_at DESC", (normalized,)
        )

    async def lookup_site(self, domain: str):
        """Cases naming any link on this registrable domain (jd-lipei.top, pay.jd-lipei.top/x), newest first."""
        return await self.db.fetchall(
            "SELECT DISTINCT r.id, r.fraud_type, r.created_at FROM report_identifiers i"
            " JOIN reports r ON r.id = i.report_id WHERE i.kind = 'url' AND r.status != 'draft'"
            " AND (i.normalized = ? OR i.normalized LIKE ? OR i.normalized LIKE ? OR i.normalized LIKE ?)"
            " ORDER BY r.created_at DESC", (domain, domain + "/%", "%." + domain, "%." + domain + "/%"),
        )

    async def cluster(self, normalized: str, since: datetime):
        """Cases naming this identifier since a moment, oldest first, with reporter and college."""
        return await self.db.fetchall(
            "SELECT DISTINCT r.id, r.case_no, r.fraud_type, r.college, r.reporter_person_id, i.kind"
            " FROM report_identifiers i JOIN reports r ON r.id = i.report_id"
            " WHERE i.normalized = ? AND r.status != 'draft' AND r.created_at >= ? ORDER BY r.id",
            (normalized, iso(since)),
        )

    async def record_campaign_alert(self, normalized: str, kind: str, first_case_no: str, count: int,
                                    fraud_type: str, colleges: list[str]) -> int | None:
        """Store a possible-campaign alert once per cluster; its id, or None if already raised."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO report_campaign_alerts (normalized, kind, first_case_no, report_count,"
                " fraud_type, colleges, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (normalized, kind, first_case_no, count, fraud_type, json.dumps(colleges, ensure_ascii=False),
                 iso(self.clock.now())),
            )
            row = await cursor.fetchone()
            return row[0] if row else None

    async def campaign_alert(self, alert_id: int):
        """A campaign alert row."""
        return await self.db.fetchone("SELECT * FROM report_campaign_alerts WHERE id = ?", (alert_id,))

    async def mark_campaign_sent(self, alert_id: int, person_id: int | None, count: int) -> bool:
        """Record that the warning went out; False if it already had."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE report_campaign_alerts SET sent_at = ?, sent_by = ?, sent_count = ?"
                " WHERE id = ? AND sent_at IS NULL", (iso(self.clock.now()), person_id, count, alert_id),
            )
            return cursor.rowcount == 1

    # --- who to tell -----------------------------------------------------------------------
    async def office_people(self, extra_keys: list[str]) -> list[int]:
        """Ids of every security-role person (roster role, or named in config roles.security) with a proven chat."""
        rows = await self.db.fetchall(
            f"SELECT id FROM people WHERE role = 'security' AND forgotten_at IS NULL AND {_PROVEN}")
        ids = {r[0] for r in rows}
        for key in extra_keys:
            row = await self.db.fetchone(
                "SELECT id FROM people WHERE (person_no = ? OR CAST(id AS TEXT) = ?) AND forgotten_at IS NULL"
                f" AND {_PROVEN}", (key, key.lstrip("#")),
            )
            if row:
                ids.add(row[0])
        return sorted(ids)

    async def class_carers(self, class_id: int) -> list[int]:
        """Monitors of a class and counsellors responsible for it."""
        rows = await self.db.fetchall(
            "SELECT p.id FROM people p WHERE p.forgotten_at IS NULL AND p.role IN ('monitor', 'counsellor') AND"
            f" {_PROVEN.replace('people.id', 'p.id')} AND (p.id IN (SELECT person_id FROM person_classes WHERE class_id = ?) OR"
            " (p.role = 'monitor' AND p.class_id = ?))", (class_id, class_id),
        )
        return [r[0] for r in rows]

    async def people_in_colleges(self, colleges: list[str]) -> list[int]:
        """Everyone in the given colleges who has not opted out."""
        if not colleges:
            return []
        marks = ", ".join("?" for _ in colleges)
        rows = await self.db.fetchall(
            f"SELECT id FROM people WHERE college IN ({marks}) AND forgotten_at IS NULL AND opted_out = 0",
            tuple(colleges),
        )
        return [r[0] for r in rows]
