"""The local chat adapter: each terminal session gets its own pushes, a security person the office's cards."""

from __future__ import annotations

import io

from bot.channels.console import ConsoleChannel, bind_console_as
from bot.events import text


async def test_a_session_takes_only_its_own_pushes_and_the_officer_gets_the_card(app, demo_class):
    student_out, officer_out = io.StringIO(), io.StringIO()
    student = await app.store.people.create("2023300", demo_class.id, demo_class.college)
    officer = await app.store.people.create("S0300", None, "保卫处", role="security")
    student_key = await bind_console_as(app, student)
    officer_key = await bind_console_as(app, officer)
    student_session = ConsoleChannel(app, student_key, out=student_out)
    await student_session.refresh_role()
    await app.outbox.push_to_security("report-card", text("🚨 R-2026-000001"), "card:1")
    await app.outbox.push_to_person(student.id, "note", text("for the student"))
    sender = app.add_channel(student_session)
    while await sender.drain_once():
        pass
    assert "for the student" in student_out.getvalue() and "R-2026-000001" not in student_out.getvalue()
    officer_session = ConsoleChannel(app, officer_key, out=officer_out)
    await officer_session.refresh_role()
    sender = app.add_channel(officer_session)
    assert await sender.drain_once() == 1          # the card, at once: nothing was deferred by the student's session
    assert "R-2026-000001" in officer_out.getvalue()


async def test_console_lines_go_through_the_inbox_one_person_at_a_time(app, demo_class):
    import asyncio

    student = await app.store.people.create("2023301", demo_class.id, demo_class.college)
    key = await bind_console_as(app, student)
    out = io.StringIO()
    session = ConsoleChannel(app, key, out=out)
    first, second = await asyncio.gather(session.send_line("/help"), session.send_line("/me"))
    assert first and second
    rows = await app.store.db.fetchall("SELECT state FROM inbox WHERE platform = 'console'")
    assert [r["state"] for r in rows] == ["replied", "replied"]
    assert out.getvalue().index("/help") < out.getvalue().index("2023301")   # /help answered before /me
