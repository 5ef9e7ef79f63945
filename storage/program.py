"""The program's records: pledges, check-ins and quiz attempts."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.clock import iso
from storage.db import Database


class PledgeRepo:
    """Who signed which version of the pledge, when and where."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def sign(self, person_id: int, version: int, channel: str) -> bool:
        """Record a signature; False if this version was already signed."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO pledges (person_id, version, channel, signed_at) VALUES (?, ?, ?, ?)",
                (person_id, version, channel, iso(self.clock.now())),
            )
            return cursor.rowcount == 1

    async def latest(self, person_id: int) -> tuple[int, str] | None:
        """The newest version the person signed and when, or None."""
        row = await self.db.fetchone(
            "SELECT version, signed_at FROM pledges WHERE person_id = ? ORDER BY version DESC LIMIT 1", (person_id,)
        )
        return None if row is None else (row[0], row[1])


class CheckinRepo:
    """Answers to the daily self-check, one row per question per day."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def record(self, person_id: int, day: str, question_id: str, answer: str, risky: bool) -> bool:
        """Store one answer; False if that question was already answered that day."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO checkins (person_id, day, question_id, answer, risky, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, day, question_id, answer, int(risky), iso(self.clock.now())),
            )
            return cursor.rowcount == 1

    async def days(self, person_id: int, since_day: str) -> set[str]:
        """The days on or after since_day with at least one answer."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT day FROM checkins WHERE person_id = ? AND day >= ?", (person_id, since_day)
        )
        return {r[0] for r in rows}

    async def answered_on(self, person_id: int, day: str) -> set[str]:
        """Question ids the person answered on a day."""
        rows = await self.db.fetchall(
            "SELECT question_id FROM checkins WHERE person_id = ? AND day = ?", (person_id, day)
        )
        return {r[0] for r in rows}

    async def streak(self, person_id: int, today: str) -> int:
        """Consecutive days with a check-in, ending today (or yesterday if not yet today)."""
        start = (date.fromisoformat(today) - timedelta(days=400)).isoformat()
        days = await self.days(person_id, start)
        current = date.fromisoformat(today)
        if current.isoformat() not in days:
            current -= timedelta(days=1)
        count = 0
        while current.isoformat() in days:
            count += 1
            current -= timedelta(days=1)
        return count

    async def recent_question_ids(self, person_id: int, since_day: str) -> set[str]:
        """Question ids asked since a day, to rotate the questions."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT question_id FROM checkins WHERE person_id = ? AND day >= ?", (person_id, since_day)
        )
        return {r[0] for r in rows}


class QuizRepo:
    """Quiz attempts and their answers."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def start(self, person_id: int, kind: str, question_ids: list[str], fraud_type: str | None = None,
                    contest_id: int | None = None) -> int:
        """Open an attempt; return its id."""
        return await self.db.execute(
            "INSERT INTO quiz_attempts (person_id, kind, contest_id, fraud_type, questions, total, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (person_id, kind, contest_id, fraud_type, json.dumps(question_ids), len(question_ids),
             iso(self.clock.now())),
        )

    async def answer(self, attempt_id: int, position: int, question_id: str, chosen: int, correct: bool) -> bool:
        """Store one answer; False if that position was already answered."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO quiz_answers (attempt_id, position, question_id, chosen, correct, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (attempt_id, position, question_id, chosen, int(correct), iso(self.clock.now())),
            )
            if cursor.rowcount == 1 and correct:
                await conn.execute("UPDATE quiz_attempts SET correct = correct + 1 WHERE id = ?", (attempt_id,))
            return cursor.rowcount == 1

    async def finish(self, attempt_id: int, pass_score: int) -> tuple[int, bool]:
        """Close an attempt: score out of 100 and whether it passed."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT total, correct, kind FROM quiz_attempts WHERE id = ?", (attempt_id,)) as c:
                total, correct, kind = await c.fetchone()
            score = round(100 * correct / total) if total else 0
            passed = kind == "awareness" and score >= pass_score
            await conn.execute(
                "UPDATE quiz_attempts SET score = ?, passed = ?, finished_at = ? WHERE id = ?",
                (score, int(passed), iso(self.clock.now()), attempt_id),
            )
        return score, passed

    async def get(self, attempt_id: int):
        """One attempt row."""
        return await self.db.fetchone("SELECT * FROM quiz_attempts WHERE id = ?", (attempt_id,))

    async def answers(self, attempt_id: int):
        """The answers of an attempt, in order."""
        return await self.db.fetchall(
            "SELECT * FROM quiz_answers WHERE attempt_id = ? ORDER BY position", (attempt_id,)
        )

    async def has_passed(self, person_id: int) -> bool:
        """Whether the person ever passed the awareness test."""
        value = await self.db.fetchval(
            "SELECT 1 FROM quiz_attempts WHERE person_id = ? AND passed = 1 LIMIT 1", (person_id,)
        )
        return value is not None

    async def best_score(self, person_id: int) -> int | None:
        """The person's best finished awareness score."""
        return await self.db.fetchval(
            "SELECT MAX(score) FROM quiz_attempts WHERE person_id = ? AND kind = 'awareness'"
            " AND finished_at IS NOT NULL",
            (person_id,),
        )
