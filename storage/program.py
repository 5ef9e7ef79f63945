"""The program's records: pledges, check-ins and quiz attempts."""

from __future__ import annotations

import json
from datetime import date, timedelta

from storage.db import Database
from storage.records import Contest, ContestEntry, ContestGroup, QuizAnswer, QuizAttempt
from storage.times import iso


class PledgeRepo:
    """Who signed which version of the pledge, when and where."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def sign(self, person_id: int, version: int, channel: str) -> bool:
        """Record a signature; False if this version was already signed."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO pledges (person_id, version, channel, signed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (person_id, version, channel, iso(self.clock.now())),
            )
            return cursor.rowcount == 1

    async def latest(self, person_id: int) -> tuple[int, str] | None:
        """The newest version the person signed and when, or None."""
        row = await self.db.fetchone(
            "SELECT version, signed_at FROM pledges WHERE person_id = ? ORDER BY version DESC LIMIT 1", (person_id,)
        )
        return None if row is None else (row[0], row[1])


    async def outdated(self, current_version: int) -> list[int]:
        """People who signed an older version than the current one (and not the current one)."""
        rows = await self.db.fetchall(
            "SELECT person_id FROM pledges GROUP BY person_id HAVING MAX(version) < ?", (current_version,)
        )
        return [r[0] for r in rows]


class CheckinRepo:
    """Answers to the daily self-check, one row per question per day."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def record(self, person_id: int, day: str, question_id: str, answer: str, risky: bool) -> bool:
        """Store one answer; False if that question was already answered that day."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO checkins (person_id, day, question_id, answer, risky, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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

    async def recent_question_ids(self, person_id: int, since_day: str, before_day: str = "9999-12-31") -> set[str]:
        """Question ids answered from since_day up to (not including) before_day, to rotate the questions."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT question_id FROM checkins WHERE person_id = ? AND day >= ? AND day < ?",
            (person_id, since_day, before_day),
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
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (person_id, kind, contest_id, fraud_type, json.dumps(question_ids), len(question_ids),
             iso(self.clock.now())),
        )

    async def answer(self, attempt_id: int, position: int, question_id: str, chosen: int, correct: bool) -> bool:
        """Store one answer; False if that position was already answered."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO quiz_answers (attempt_id, position, question_id, chosen, correct, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (attempt_id, position, question_id, chosen, int(correct), iso(self.clock.now())),
            )
            if cursor.rowcount == 1 and correct:
                await conn.execute("UPDATE quiz_attempts SET correct = correct + 1 WHERE id = ?", (attempt_id,))
            return cursor.rowcount == 1

    async def finish(self, attempt_id: int, pass_score: int, counts_as_test: bool = False) -> tuple[int, bool]:
        """Close an attempt: score out of 100 and whether it passed (a contest only when it counts as the test)."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT total, correct, kind FROM quiz_attempts WHERE id = ?", (attempt_id,)) as c:
                total, correct, kind = await c.fetchone()
            score = round(100 * correct / total) if total else 0
            passed = (kind == "awareness" or (kind == "contest" and counts_as_test)) and score >= pass_score
            await conn.execute(
                "UPDATE quiz_attempts SET score = ?, passed = ?, finished_at = ? WHERE id = ?",
                (score, int(passed), iso(self.clock.now()), attempt_id),
            )
        return score, passed

    async def get(self, attempt_id: int) -> QuizAttempt | None:
        """One attempt, or None."""
        row = await self.db.fetchone(
            "SELECT id, person_id, kind, contest_id, fraud_type, questions, total, correct, score, passed,"
            " started_at, finished_at FROM quiz_attempts WHERE id = ?", (attempt_id,))
        if row is None:
            return None
        return QuizAttempt(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6], row[7],
                           row[8], bool(row[9]), row[10], row[11])

    async def answers(self, attempt_id: int) -> list[QuizAnswer]:
        """The answers of an attempt, in order."""
        rows = await self.db.fetchall(
            "SELECT attempt_id, position, question_id, chosen, correct, answered_at FROM quiz_answers"
            " WHERE attempt_id = ? ORDER BY position", (attempt_id,)
        )
        return [QuizAnswer(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

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


class WarningRepo:
    """Case stories sent to people as warnings, and what they answered."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def sent_by_person(self) -> dict[int, set[str]]:
        """Every person's case ids already sent (for the weekly pick)."""
        rows = await self.db.fetchall("SELECT person_id, case_id FROM warnings_sent")
        sent: dict[int, set[str]] = {}
        for person_id, case_id in rows:
            sent.setdefault(person_id, set()).add(case_id)
        return sent

    async def sent_to(self, person_id: int) -> set[str]:
        """The case ids one person was already sent."""
        rows = await self.db.fetchall("SELECT case_id FROM warnings_sent WHERE person_id = ?", (person_id,))
        return {r[0] for r in rows}

    async def record_many(self, rows: list[tuple[int, str, str]], day: str) -> int:
        """Remember (person_id, case_id, fraud_type) as sent on day; return how many were new."""
        if not rows:
            return 0
        async with self.db.transaction() as conn:
            before = conn.total_changes
            await conn.executemany(
                "INSERT INTO warnings_sent (person_id, case_id, fraud_type, sent_on) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(p, c, t, day) for p, c, t in rows],
            )
            return conn.total_changes - before

    async def answer(self, person_id: int, case_id: str, fraud_type: str, chosen: int, correct: bool,
                     day: str) -> None:
        """Store the first "what would you do" answer to a case (a case opened on demand is recorded too)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO warnings_sent (person_id, case_id, fraud_type, sent_on) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (person_id, case_id, fraud_type, day),
            )
            await conn.execute(
                "UPDATE warnings_sent SET chosen = ?, correct = ?, answered_at = ?"
                " WHERE person_id = ? AND case_id = ? AND chosen IS NULL",
                (chosen, int(correct), iso(self.clock.now()), person_id, case_id),
            )


class ContestRepo:
    """Contests: the same questions for an audience, timed, with leaderboards."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def create(self, started_by: int | None, scope: str, scope_value: str, question_ids: list[str],
                     seconds_per_question: int, closes_at: str) -> int:
        """Open a contest; return its id."""
        return await self.db.execute(
            "INSERT INTO contests (started_by, scope, scope_value, questions, seconds_per_question, created_at,"
            " closes_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (started_by, scope, scope_value, json.dumps(question_ids), seconds_per_question,
             iso(self.clock.now()), closes_at),
        )

    async def open_for(self, scope: str, scope_value: str, now: str) -> Contest | None:
        """The newest contest still running for exactly this audience, or None."""
        return _contest(await self.db.fetchone(
            "SELECT id, started_by, scope, scope_value, questions, seconds_per_question, status, created_at, closes_at, closed_at FROM contests"
            " WHERE status = 'open' AND scope = ? AND scope_value = ? AND closes_at > ?"
            " ORDER BY id DESC LIMIT 1", (scope, scope_value, now)))

    async def get(self, contest_id: int) -> Contest | None:
        """One contest, or None."""
        return _contest(await self.db.fetchone(
            "SELECT id, started_by, scope, scope_value, questions, seconds_per_question, status, created_at, closes_at, closed_at FROM contests WHERE id = ?", (contest_id,)))

    async def close(self, contest_id: int) -> bool:
        """Close a contest; False if it was already closed."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE contests SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
                (iso(self.clock.now()), contest_id),
            )
            return cursor.rowcount == 1

    async def due_to_close(self, now: str) -> list[int]:
        """Open contests whose time is over."""
        rows = await self.db.fetchall("SELECT id FROM contests WHERE status = 'open' AND closes_at <= ?", (now,))
        return [r[0] for r in rows]

    async def record_result(self, contest_id: int, person, attempt_id: int, correct: int, total: int,
                            score: int, elapsed_s: float) -> bool:
        """Store a person's finished entry; False if they already had one."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO contest_results (contest_id, person_id, attempt_id, class_id, college,"
                " correct, total, score, elapsed_s, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (contest_id, person.id, attempt_id, person.class_id, person.college or "", correct, total, score,
                 round(elapsed_s, 3), iso(self.clock.now())),
            )
            return cursor.rowcount == 1

    async def has_result(self, contest_id: int, person_id: int) -> bool:
        """Whether a person already finished this contest."""
        value = await self.db.fetchval(
            "SELECT 1 FROM contest_results WHERE contest_id = ? AND person_id = ?", (contest_id, person_id)
        )
        return value is not None

    async def individual_board(self, contest_id: int, limit: int = 10) -> list[ContestEntry]:
        """The best entries: higher score first, then faster."""
        rows = await self.db.fetchall(
            "SELECT r.person_id, r.score, r.correct, r.total, r.elapsed_s, p.name, p.person_no, c.name AS klass"
            " FROM contest_results r JOIN people p ON p.id = r.person_id LEFT JOIN classes c ON c.id = r.class_id"
            " WHERE r.contest_id = ? ORDER BY r.score DESC, r.elapsed_s, r.finished_at LIMIT ?",
            (contest_id, limit),
        )
        return [ContestEntry(*row) for row in rows]

    async def rank_of(self, contest_id: int, person_id: int) -> tuple[int, int]:
        """(rank, entries) of a person in a contest (rank 0 when absent)."""
        rows = await self.db.fetchall(
            "SELECT person_id FROM contest_results WHERE contest_id = ? ORDER BY score DESC, elapsed_s, finished_at",
            (contest_id,),
        )
        ids = [r[0] for r in rows]
        return (ids.index(person_id) + 1 if person_id in ids else 0), len(ids)

    async def group_board(self, contest_id: int, by: str, limit: int = 10) -> list[ContestGroup]:
        """Classes ('class') or colleges ('college') by average score, with the number of entries."""
        if by == "class":
            sql = ("SELECT COALESCE(c.name, '-') AS name, AVG(r.score) AS average, COUNT(*) AS entries"
                   " FROM contest_results r LEFT JOIN classes c ON c.id = r.class_id WHERE r.contest_id = ?"
                   " GROUP BY r.class_id, c.name ORDER BY average DESC, entries DESC LIMIT ?")
        else:
            sql = ("SELECT CASE WHEN r.college = '' THEN '-' ELSE r.college END AS name, AVG(r.score) AS average,"
                   " COUNT(*) AS entries FROM contest_results r WHERE r.contest_id = ?"
                   " GROUP BY r.college ORDER BY average DESC, entries DESC LIMIT ?")
        return [ContestGroup(*row) for row in await self.db.fetchall(sql, (contest_id, limit))]


def _contest(row) -> Contest | None:
    """A contests row as a record (its question ids parsed), or None."""
    if row is None:
        return None
    values = tuple(row)
    return Contest(*values[:4], tuple(json.loads(values[4])), *values[5:])


class AudienceRepo:
    """Who the program pushes to: bound, reachable, not opted out, not forgotten."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def reachable(self, scope: str = "school", scope_value: str = "") -> list[tuple[int, str]]:
        """(person_id, tags) of everyone reachable in a scope ('school', 'college', 'class')."""
        where, params = "", ()
        if scope == "college":
            where, params = " AND p.college = ?", (scope_value,)
        elif scope == "class":
            where, params = " AND p.class_id = ?", (int(scope_value),)
        rows = await self.db.fetchall(
            "SELECT p.id, p.tags FROM people p WHERE p.opted_out = 0 AND p.forgotten_at IS NULL"
            " AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id AND a.reachable = 1)"
            f"{where} ORDER BY p.id",
            params,
        )
        return [(r[0], r[1] or "") for r in rows]

    async def recent_checkin_questions(self, since_day: str, before_day: str) -> dict[int, set[str]]:
        """Question ids each person answered on since_day .. the day before before_day (for rotation)."""
        rows = await self.db.fetchall(
            "SELECT person_id, question_id FROM checkins WHERE day >= ? AND day < ?", (since_day, before_day)
        )
        found: dict[int, set[str]] = {}
        for person_id, question_id in rows:
            found.setdefault(person_id, set()).add(question_id)
        return found

    async def checked_in_on(self, day: str) -> set[int]:
        """The people with at least one self-check answer on a day."""
        rows = await self.db.fetchall("SELECT DISTINCT person_id FROM checkins WHERE day = ?", (day,))
        return {r[0] for r in rows}

    async def awareness_rate(self, scope: str = "school", scope_value: str = "") -> tuple[int, int]:
        """(people who passed the awareness test, people) in a scope."""
        where, params = "", ()
        if scope == "college":
            where, params = " AND p.college = ?", (scope_value,)
        elif scope == "class":
            where, params = " AND p.class_id = ?", (int(scope_value),)
        row = await self.db.fetchone(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM quiz_attempts q WHERE q.person_id = p.id AND q.passed = 1))"
            f" FROM people p WHERE p.forgotten_at IS NULL AND p.role IN ('student', 'staff', 'monitor'){where}",
            params,
        )
        return int(row[1] or 0), int(row[0] or 0)
