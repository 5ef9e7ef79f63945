"""Helpers for the office tests: small hand-counted databases written straight into the tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import iso
from tests.program_support import local
from tests.support import User


async def add_class(app, name: str, college: str) -> int:
    """A class; its id."""
    return await app.store.classes.ensure(name, college)


async def add_person(app, number: str, class_id: int | None, college: str, role: str = "student",
                     name: str | None = None, bound: bool = True, lang: str = "zh", tags: str = "") -> int:
    """A roster person, with a chat account on the 'test' platform (user key = number) when bound."""
    now = iso(app.clock.now())
    person_id = await app.store.db.execute(
        "INSERT INTO people (person_no, name, college, class_id, role, tags, from_roster, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 1, ?) RETURNING id", (number, name, college, class_id, role, tags, now))
    if bound:
        await app.store.db.execute(
            "INSERT INTO accounts (platform, user_key, chat_key, person_id, language, created_at, last_seen_at)"
            " VALUES ('test', ?, ?, ?, ?, ?, ?)", (number, number, person_id, lang, now, now))
    if role in ("monitor", "counsellor") and class_id is not None:
        await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)",
                                   (person_id, class_id))
    return person_id


async def responsible_for(app, person_id: int, class_id: int) -> None:
    """Add a class to a counsellor's or monitor's list."""
    await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                               (person_id, class_id))


async def pledge(app, person_id: int, version: int = 1, at: datetime | None = None) -> None:
    """A pledge signature."""
    await app.store.db.execute(
        "INSERT INTO pledges (person_id, version, channel, signed_at) VALUES (?, ?, 'test', ?)",
        (person_id, version, iso(at or local(2026, 11, 1))))


async def checkin(app, person_id: int, day: str, questions: int = 1) -> None:
    """A check-in on a day (one row per question answered)."""
    for q in range(questions):
        await app.store.db.execute(
            "INSERT INTO checkins (person_id, day, question_id, answer, risky, answered_at)"
            " VALUES (?, ?, ?, 'no', 0, ?)", (person_id, day, f"q{q}", iso(local(2026, 11, 1))))


async def quiz(app, person_id: int, score: int, at: datetime, pass_score: int = 80) -> None:
    """A finished awareness test."""
    await app.store.db.execute(
        "INSERT INTO quiz_attempts (person_id, kind, questions, total, correct, score, passed, started_at, finished_at)"
        " VALUES (?, 'awareness', '[]', 10, ?, ?, ?, ?, ?)",
        (person_id, score // 10, score, int(score >= pass_score), iso(at), iso(at)))


async def report(app, case_no: str, submitted: datetime, fraud_type: str = "brushing", amount: int = 0,
                 urgent: bool = False, college: str = "", class_id: int | None = None,
                 ack_minutes: float | None = None, status: str = "received") -> int:
    """A submitted report (acknowledged after ack_minutes if given)."""
    acknowledged = iso(submitted + timedelta(minutes=ack_minutes)) if ack_minutes is not None else None
    if acknowledged and status == "received":
        status = "acknowledged"
    report_id = await app.store.db.execute(
        "INSERT INTO reports (case_no, status, urgent, fraud_type, amount_yuan, college, class_id, created_at,"
        " submitted_at, acknowledged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (case_no, status, int(urgent), fraud_type, amount, college, class_id, iso(submitted), iso(submitted),
         acknowledged))
    await app.store.reports.add_event(report_id, "submitted")
    return report_id


def chat(app, number: str) -> User:
    """The chat user bound to a person added with add_person."""
    return User(app, number)
