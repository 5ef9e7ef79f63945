"""The office console's records: sign-in links, sessions, and the reads its pages need."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.times import iso

OPEN_STATUSES = ("received", "acknowledged", "in_progress")
CASE_COLUMNS = ("id, case_no, status, urgent, fraud_type, amount_yuan, college, flagged_review, created_at,"
                " submitted_at, escalation_count, acknowledged_at, assigned_to,"
                " (SELECT MAX(e.at) FROM report_events e WHERE e.report_id = reports.id"
                " AND e.action IN ('escalated', 'reescalated', 'fallback')) AS last_escalated_at,"
                " EXISTS (SELECT 1 FROM report_reviews v WHERE v.report_id = reports.id) AS reviewed")


class ConsoleRepo:
    """Links and sessions by token digest; case lists with filters; the audit log with filters."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    # --- sign-in links ------------------------------------------------------------------------
    async def add_link(self, token_hash: str, person_id: int, lifetime: timedelta) -> None:
        """Record a new one-time link."""
        now = self.clock.now()
        await self.db.execute(
            "INSERT INTO console_links (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, person_id, iso(now), iso(now + lifetime)))

    async def take_link(self, token_hash: str) -> int | None:
        """Use a link once: its person id, or None when unknown, used or expired."""
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE console_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?"
                " RETURNING person_id", (now, token_hash, now)) as cursor:
                row = await cursor.fetchone()
        return None if row is None else row[0]

    # --- sessions ----------------------------------------------------------------------------------
    async def add_session(self, token_hash: str, person_id: int, csrf: str, lang: str) -> None:
        """Record a signed-in browser."""
        now = iso(self.clock.now())
        await self.db.execute(
            "INSERT INTO console_sessions (token_hash, person_id, csrf, lang, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (token_hash, person_id, csrf, lang, now, now))

    async def session(self, token_hash: str, idle: timedelta):
        """The live session (idle for less than `idle`), or None; expired ones are deleted."""
        row = await self.db.fetchone("SELECT * FROM console_sessions WHERE token_hash = ?", (token_hash,))
        if row is None:
            return None
        if datetime.fromisoformat(row["last_seen_at"]) + idle <= self.clock.now():
            await self.drop_session(token_hash)
            return None
        return row

    async def touch_session(self, token_hash: str) -> None:
        """Record activity (the idle timeout counts from here)."""
        await self.db.execute("UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?",
                              (iso(self.clock.now()), token_hash))

    async def set_session_lang(self, token_hash: str, lang: str) -> None:
        """The language the browser chose."""
        await self.db.execute("UPDATE console_sessions SET lang = ? WHERE token_hash = ?", (lang, token_hash))

    async def set_flash(self, token_hash: str, message: str) -> None:
        """Keep an action's answer for the page the browser is sent to next."""
        await self.db.execute("UPDATE console_sessions SET flash = ? WHERE token_hash = ?", (message, token_hash))

    async def pop_flash(self, token_hash: str) -> str:
        """The kept answer, once."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT flash FROM console_sessions WHERE token_hash = ?", (token_hash,)) as c:
                row = await c.fetchone()
            if row is None or row[0] is None:
                return ""
            await conn.execute("UPDATE console_sessions SET flash = NULL WHERE token_hash = ?", (token_hash,))
        return row[0]

    async def drop_session(self, token_hash: str) -> None:
        """Sign out."""
        await self.db.execute("DELETE FROM console_sessions WHERE token_hash = ?", (token_hash,))

    # --- page reads ----------------------------------------------------------------------------------
    async def cases(self, status: str = "open", fraud_type: str = "", college: str = "",
                    min_amount: int | None = None, review: bool = False, limit: int = 500):
        """Submitted cases matching the filters: urgent first, then oldest; and how many matched in all."""
        where, params = ["status != 'draft'"], []
        if status == "open":
            where.append(f"status IN ({', '.join('?' * len(OPEN_STATUSES))})")
            params += OPEN_STATUSES
        elif status:
            where.append("status = ?")
            params.append(status)
        _narrow(where, params, {"fraud_type = ?": fraud_type, "college = ?": college, "amount_yuan >= ?": min_amount})
        if review:      # 待倒查: flagged and its review not recorded yet
            where.append("flagged_review = 1 AND NOT EXISTS"
                         " (SELECT 1 FROM report_reviews v WHERE v.report_id = reports.id)")
        condition = " AND ".join(where)
        total = await self.db.fetchval(f"SELECT COUNT(*) FROM reports WHERE {condition}", params)
        order = "urgent DESC, id" if status == "open" else "id DESC"
        rows = await self.db.fetchall(
            f"SELECT {CASE_COLUMNS} FROM reports WHERE {condition} ORDER BY {order} LIMIT ?", (*params, limit))
        return rows, total

    async def cases_naming(self, normalized: list[str], except_report: int) -> dict[str, list[str]]:
        """For each identifier, the case numbers of the other submitted cases that name it."""
        if not normalized:
            return {}
        rows = await self.db.fetchall(
            "SELECT i.normalized, r.case_no FROM report_identifiers i JOIN reports r ON r.id = i.report_id"
            f" WHERE i.normalized IN ({', '.join('?' * len(normalized))}) AND r.id != ? AND r.case_no IS NOT NULL"
            " AND r.status != 'draft' GROUP BY i.normalized, r.case_no ORDER BY MAX(r.id) DESC",
            (*normalized, except_report))
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(row[1])
        return found

    async def evidence_item(self, evidence_id: int):
        """One evidence file's row with its case number."""
        return await self.db.fetchone(
            "SELECT e.*, r.case_no FROM report_evidence e JOIN reports r ON r.id = e.report_id WHERE e.id = ?",
            (evidence_id,))

    async def audit(self, action: str = "", actor_person_id: int | None = None, target: str = "",
                    since: str = "", limit: int = 200):
        """Audit entries matching the filters, newest first."""
        where, params = ["1 = 1"], []
        _narrow(where, params, {"action = ?": action, "actor_person_id = ?": actor_person_id, "target = ?": target,
                                "at >= ?": since})
        return await self.db.fetchall(
            f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*params, limit))

    async def privileged_numbers(self, roles: tuple[str, ...]) -> set[str]:
        """The numbers of people whose roster role is one of these (the few security officers and admins)."""
        rows = await self.db.fetchall(
            f"SELECT person_no FROM people WHERE role IN ({', '.join('?' * len(roles))}) AND person_no IS NOT NULL",
            roles)
        return {r[0] for r in rows}

    async def audit_actions(self) -> list[str]:
        """Every action the audit log holds, for the filter."""
        return [r[0] for r in await self.db.fetchall("SELECT DISTINCT action FROM audit_log ORDER BY action")]


def _narrow(where: list[str], params: list, conditions: dict[str, object]) -> None:
    """Add each condition whose value was given (None or "" means the filter is not set)."""
    for condition, value in conditions.items():
        if value is not None and value != "":
            where.append(condition)
            params.append(value)
