"""Baselines: earlier periods' case and money figures entered by the office (from police figures)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.times import iso


@dataclass(frozen=True)
class Baseline:
    """One entered figure: cases and money lost in a college (or the school) over local days first..last."""

    college: str
    first_day: str
    last_day: str
    cases: int
    money_yuan: int
    source: str


class BaselineRepo:
    """Set, list and find baselines."""

    def __init__(self, db: Database, clock) -> None:
        self.db = db
        self.clock = clock

    async def set(self, item: Baseline) -> bool:
        """Store a baseline, replacing the one for the same college and days; True if it was new."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM baselines WHERE college = ? AND first_day = ? AND last_day = ?",
                                    (item.college, item.first_day, item.last_day)) as cursor:
                existed = await cursor.fetchone() is not None
            await conn.execute(
                "INSERT INTO baselines (college, first_day, last_day, cases, money_yuan, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (college, first_day, last_day) DO UPDATE SET"
                " cases = excluded.cases, money_yuan = excluded.money_yuan, source = excluded.source",
                (item.college, item.first_day, item.last_day, item.cases, item.money_yuan, item.source,
                 iso(self.clock.now())))
        return not existed

    async def all(self) -> list[Baseline]:
        """Every baseline, by college then period."""
        rows = await self.db.fetchall(
            "SELECT college, first_day, last_day, cases, money_yuan, source FROM baselines"
            " ORDER BY college, first_day")
        return [Baseline(*row) for row in rows]

    async def overlapping(self, college: str, first_day: str, last_day: str) -> list[Baseline]:
        """The baselines of a college ('' = school) that share at least one day with first..last."""
        rows = await self.db.fetchall(
            "SELECT college, first_day, last_day, cases, money_yuan, source FROM baselines"
            " WHERE college = ? AND first_day <= ? AND last_day >= ? ORDER BY first_day",
            (college, last_day, first_day))
        return [Baseline(*row) for row in rows]
