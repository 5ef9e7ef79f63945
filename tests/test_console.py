"""The local chat adapter: each terminal session gets its own pushes, a security person the office's cards."""

from __future__ import annotations

import io
import re

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


async def test_every_officer_console_shows_every_card_and_its_numbers_answer_it(app):
    from bot.events import Button

    sessions = []
    for number in ("S0401", "S0402"):
        officer = await app.store.people.create(number, None, "保卫处", role="security")
        session = ConsoleChannel(app, await bind_console_as(app, officer), out=io.StringIO())
        await session.refresh_role()
        sessions.append(session)
    await app.outbox.push_to_security("card", text("🚨 R-2026-000006", [
        Button("受理", "rep:ack:R-2026-000006"), Button("指派", "rep:assign:R-2026-000006")]), "card:6")
    for session in sessions:
        sender = app.add_channel(session)
        while await sender.drain_once():
            pass
        assert "R-2026-000006" in session.out.getvalue() and "[2] 指派" in session.out.getvalue()
    account = await app.store.accounts.find("console", sessions[1].user_key)
    assert (await app.store.choices.get(account.id))[1] == ("指派", "rep:assign:R-2026-000006")


async def test_a_number_under_a_new_card_acts_on_that_card_not_the_case_being_closed(app, demo_class):
    from tests.support import User, make_person

    officer = await app.store.people.create("S0501", None, "保卫处", role="security")
    key = await bind_console_as(app, officer)
    session = ConsoleChannel(app, key, out=io.StringIO())
    await session.refresh_role()
    sender = app.add_channel(session)
    terminal = User(app, key, platform="console")
    first = await make_person(app, "2023601", class_id=demo_class.id, college=demo_class.college)
    await first.say("/report")
    await first.press("rep:money:money")                      # R-2026-000001
    await terminal.press("rep:resolve:R-2026-000001")         # asked for the closing note of case 1
    second = await make_person(app, "2023602", class_id=demo_class.id, college=demo_class.college)
    await second.say("/report")
    await second.press("rep:money:money")                     # R-2026-000002: its card arrives
    while await sender.drain_once():
        pass
    card = session.out.getvalue().rsplit("R-2026-000002", 1)[1]
    await terminal.say(re.search(r"\[(\d)\] 指派", card).group(1))       # the number the terminal shows
    assert "R-2026-000002" in terminal.text                   # the assign list of case 2
    assert (await app.store.reports.get(1))["status"] != "resolved"
    assert terminal.replies[-1].flat_buttons()[0].data == "rep:resolve:R-2026-000001:nonote"   # its note, asked again

