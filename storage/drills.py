"""Drill results, assignments and follow-up warnings (tables of migration 0007)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Database
from storage.times import iso


@dataclass
class DrillResult:
    """One finished drill run."""

    person_id: int
    drill_id: str
    fraud_type: str
    score: int
    passed: bool
    ending: str
    ended_safely: bool
    missed_flags: list[str]
    path: list[dict]
    started_at: str
    finished_at: str = ""


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


class DrillRepo:
    """Who ran which drill with what result; who was assigned which; who is owed a follow-up."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def record(self, result: DrillResult) -> int:
        """Store a finished run; return its id."""
        finished = result.finished_at or iso(self.clock.now())
        return await self.db.execute(
            "INSERT INTO drill_results (person_id, drill_id, fraud_type, score, passed, ending, ended_safely,"
            " missed_flags, path, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (result.person_id, result.drill_id, result.fraud_type, result.score, int(result.passed), result.ending,
             int(result.ended_safely), json.dumps(result.missed_flags), json.dumps(result.path, ensure_ascii=False),
             result.started_at, finished),
        )

    async def done_ids(self, person_id: int) -> set[str]:
        """The drills a person has finished at least once."""
        rows = await self.db.fetchall("SELECT DISTINCT drill_id FROM drill_results WHERE person_id = ?", (person_id,))
        return {r[0] for r in rows}

    async def best(self, person_id: int) -> dict[str, tuple[int, bool]]:
        """Each finished drill's best (score, passed) for a person."""
        rows = await self.db.fetchall(
            "SELECT drill_id, MAX(score), MAX(passed) FROM drill_results WHERE person_id = ? GROUP BY drill_id",
            (person_id,),
        )
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    async def results(self, person_id: int) -> list[DrillResult]:
        """A person's runs, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM drill_results WHERE person_id = ? ORDER BY id", (person_id,)
        )
        return [
            DrillResult(r["person_id"], r["drill_id"], r["fraud_type"], r["score"], bool(r["passed"]), r["ending"],
                        bool(r["ended_safely"]), json.loads(r["missed_flags"]), json.loads(r["path"]),
                        r["started_at"], r["finished_at"])
            for r in rows
        ]

    async def completion(self, person_ids: Iterable[int], drill_id: str | None = None) -> tuple[int, int]:
        """(people who finished a drill, people who passed one) among person_ids; one drill if given."""
        ids = sorted(set(person_ids))
        completed = passed = 0
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = (f"SELECT person_id, MAX(passed) FROM drill_results WHERE person_id IN ({marks})"
                   + (" AND drill_id = ?" if drill_id else "") + " GROUP BY person_id")
            rows = await self.db.fetchall(sql, (*chunk, drill_id) if drill_id else chunk)
            completed += len(rows)
            passed += sum(1 for r in rows if r[1])
        return completed, passed

    async def assign(self, drill_id: str, person_ids: Iterable[int], assigned_by: int | None,
                     audience: str) -> set[int]:
        """Record assignments; return the people newly assigned (those already assigned are skipped)."""
        now = iso(self.clock.now())
        fresh: set[int] = set()
        async with self.db.transaction() as conn:
            for person_id in person_ids:
                cursor = await conn.execute(
                    "INSERT INTO drill_assignments (drill_id, person_id, assigned_by, audience, assigned_at)"
                    " VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                    (drill_id, person_id, assigned_by, audience, now),
                )
                if cursor.rowcount:
                    fresh.add(person_id)
        return fresh

    async def met_by_person(self) -> dict[int, set[str]]:
        """For everyone, the drills they were assigned or have finished."""
        rows = await self.db.fetchall(
            "SELECT person_id, drill_id FROM drill_assignments UNION SELECT person_id, drill_id FROM drill_results"
        )
        met: dict[int, set[str]] = {}
        for person_id, drill_id in rows:
            met.setdefault(person_id, set()).add(drill_id)
        return met

    async def assigned_open(self, person_id: int) -> list[str]:
        """Drills assigned to a person that they have not finished yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT a.drill_id FROM drill_assignments a WHERE a.person_id = ? AND NOT EXISTS"
            " (SELECT 1 FROM drill_results r WHERE r.person_id = a.person_id AND r.drill_id = a.drill_id"
            "  AND r.finished_at >= a.assigned_at) ORDER BY a.assigned_at, a.id",
            (person_id,),
        )
        return [r[0] for r in rows]

    async def ledger(self, since: str, until: str) -> list[tuple[str, str, str, int, int]]:
        """For the ledger, per drill and audience assigned in [since, until): (drill_id, audience, first
        assigned_at, people assigned, of them finished since assignment).

        since/until are UTC ISO texts like the stored times.
        """
        rows = await self.db.fetchall(
            "SELECT a.drill_id, a.audience, MIN(a.assigned_at), COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM drill_results r"
            " WHERE r.person_id = a.person_id AND r.drill_id = a.drill_id AND r.finished_at >= a.assigned_at))"
            " FROM drill_assignments a WHERE a.assigned_at >= ? AND a.assigned_at < ?"
            " GROUP BY a.drill_id, a.audience ORDER BY a.drill_id, MIN(a.assigned_at)",
            (since, until),
        )
        return [(r[0], r[1], r[2], r[3], r[4] or 0) for r in rows]

    async def finished_between(self, since: str, until: str) -> list[tuple[str, int, int]]:
        """(drill_id, runs finished, runs passed) in [since, until), for statistics."""
        rows = await self.db.fetchall(
            "SELECT drill_id, COUNT(*), SUM(passed) FROM drill_results WHERE finished_at >= ? AND finished_at < ?"
            " GROUP BY drill_id ORDER BY drill_id",
            (since, until),
        )
        return [(r[0], r[1], r[2] or 0) for r in rows]

    async def add_followup(self, person_id: int, fraud_type: str, drill_id: str, case_id: str, week: str,
                           due_at: str) -> bool:
        """Record that a person gets a type's case warning in a week; False if one is already due then."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO drill_followups (person_id, fraud_type, drill_id, case_id, week, due_at,"
                " created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                (person_id, fraud_type, drill_id, case_id, week, due_at, iso(self.clock.now())),
            )
            return cursor.rowcount == 1

    async def followups_for_week(self, week: str) -> dict[int, str]:
        """person_id -> fraud_type of the follow-ups due in the week starting on that Monday."""
        rows = await self.db.fetchall(
            "SELECT person_id, fraud_type FROM drill_followups WHERE week = ? ORDER BY id", (week,)
        )
        return {r[0]: r[1] for r in rows}

    async def sent_followup_cases(self, person_id: int) -> set[str]:
        """Case ids already chosen as follow-ups for a person."""
        rows = await self.db.fetchall("SELECT case_id FROM drill_followups WHERE person_id = ?", (person_id,))
        return {r[0] for r in rows}

    async def people_in(self, scope: str, value: str = "") -> list[int]:
        """Ids of the people (not forgotten, not opted out) in a scope: all, class (id), college, tag."""
        where, params = "", ()
        if scope == "class":
            where, params = " AND class_id = ?", (int(value),)
        elif scope == "college":
            where, params = " AND college = ?", (value,)
        elif scope == "tag":
            where, params = " AND (',' || tags || ',') LIKE ?", (f"%,{value},%",)
        rows = await self.db.fetchall(
            f"SELECT id FROM people WHERE forgotten_at IS NULL AND opted_out = 0{where} ORDER BY id", params
        )
        return [r[0] for r in rows]
