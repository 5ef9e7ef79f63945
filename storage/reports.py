"""Incident reports, their identifiers, evidence and handling timeline."""

from __future__ import annotations

from bot.clock import iso
from storage.db import Database


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
                        note: str | None = None) -> None:
        """Append to a report's handling timeline."""
        await self.db.execute(
            "INSERT INTO report_events (report_id, actor_person_id, action, note, at) VALUES (?, ?, ?, ?, ?)",
            (report_id, actor_person_id, action, note, iso(self.clock.now())),
        )

    async def events(self, report_id: int):
        """A report's timeline, oldest first."""
        return await self.db.fetchall(
            "SELECT * FROM report_events WHERE report_id = ? ORDER BY at, id", (report_id,)
        )
