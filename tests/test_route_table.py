"""Every route in handlers/routes.py, table-driven: personal data stays out of groups, office work checks the role."""

from __future__ import annotations

import pytest

from bot.events import Incoming, Kind
from handlers import contest
from handlers.routes import build_routes
from storage.people import RosterRow
from tests.support import User

ROUTES = build_routes()

# Commands that may run in a class group, each with why: they show nobody's data and collect none.
PUBLIC_IN_GROUPS = {
    "help": "the command list",
    "lang": "the language choice (its buttons point to the private chat in a group)",
    "cancel": "ends the sender's own conversation, says nothing of it",
    "case": "a published warning case, the same for everyone",
    "contest": "the class contest is a group activity",
    "letter": "the published letter to parents",
    "stop": "the sender's own push setting, answered with one fixed line",
    "resume": "the sender's own push setting, answered with one fixed line",
    "ask": "advice on what the sender typed there themselves",
    "learn": "published lessons",
}
GROUP_BUTTONS = {contest.NEW, contest.JOIN, contest.ANSWER_DATA.prefix, contest.BOARD, contest.END}
TEXT_SAMPLES = {ROUTES.text_routes[0].pattern.pattern: "受理 R-2026-000001"}

ROSTER = [
    RosterRow("2023001", "张三", "计算机学院", ["计科2301"], None, "student", []),
    RosterRow("2023002", "李四", "计算机学院", ["计科2301"], None, "monitor", []),
]


def restricted():
    """(what to send, its roles) for every command, button and typed command students do not have."""
    items = [(("say", f"/{c.name}"), c.roles) for c in ROUTES.commands if "student" not in c.roles]
    items += [(("press", b.prefix + "1"), b.roles) for b in ROUTES.buttons if "student" not in b.roles]
    items += [(("say", TEXT_SAMPLES[r.pattern.pattern]), r.roles) for r in ROUTES.text_routes]
    return items


def test_every_command_is_private_only_unless_declared_public():
    for command in ROUTES.commands:
        assert (command.name in ROUTES.private_only) != (command.name in PUBLIC_IN_GROUPS), command.name
    assert set(PUBLIC_IN_GROUPS) <= {c.name for c in ROUTES.commands}


def test_only_the_contest_buttons_work_in_a_group():
    assert ROUTES.group_buttons == GROUP_BUTTONS
    assert all(r.pattern.pattern in TEXT_SAMPLES for r in ROUTES.text_routes)


@pytest.mark.parametrize("office_group", [False, True])
async def test_in_a_class_group_every_private_route_only_points_to_the_private_chat(app, office_group):
    await app.store.people.upsert_roster(ROSTER)
    officer = await app.store.people.create("S0611", None, "保卫处", role="security")
    account = await app.store.accounts.touch("test", "officer", "officer")
    await app.store.accounts.bind(account.id, officer.id, proof="invite")
    sent = [(Kind.TEXT, f"/{name}") for name in sorted(ROUTES.private_only)]
    sent += [(Kind.BUTTON, b.prefix + "1") for b in ROUTES.buttons if b.prefix not in ROUTES.group_buttons]
    sent += [(Kind.TEXT, sample) for sample in TEXT_SAMPLES.values()]
    for kind, body in sent:
        msg = Incoming("test", "officer", "officer", kind, body, is_group=True, security_group=office_group)
        replies = await app.handle(msg)
        pointed = len(replies) == 1 and "私聊" in (replies[0].text or "")
        assert pointed != office_group, (body, [r.text for r in replies])
    assert await app.store.conversations.get(account.id) is None or office_group


async def test_every_office_and_class_leader_route_refuses_a_student_a_monitor_and_an_unbound_chat(app):
    await app.store.people.upsert_roster(ROSTER)
    student, monitor, stranger = User(app, "student"), User(app, "monitor"), User(app, "stranger")
    await student.bind_invited("2023001")
    await monitor.bind_invited("2023002")
    await stranger.say("/help")
    accounts = {u.key: (await app.store.accounts.find("test", u.key)).id for u in (student, monitor, stranger)}
    checked = 0
    for (how, body), roles in restricted():
        for user, role in ((student, "student"), (monitor, "monitor"), (stranger, "guest")):
            if role in roles:
                continue
            await getattr(user, how)(body)
            assert ("不能使用" in user.text or "/start" in user.text) and len(user.replies) == 1, (body, role, user.text)
            last = (await app.store.audit.recent(1, action="refused"))[0]
            assert (last["target"], last["actor_account_id"]) == (body[:40], accounts[user.key]), (body, role)
            checked += 1
    assert checked > 60


async def test_a_monitor_forging_another_classs_remind_or_class_button_is_refused_and_audited(app):
    await app.store.people.upsert_roster([*ROSTER, RosterRow("2023101", "赵六", "计算机学院", ["计科2302"], None,
                                                            "student", [])])
    monitor = User(app, "monitor")
    await monitor.bind_invited("2023002")
    other = await app.store.classes.by_name("计科2302")
    for forged in (f"rmd:quiz:{other.id}", f"cls:show:{other.id}"):
        await monitor.press(forged)
        assert "不是你负责的班级" in monitor.text and "赵六" not in monitor.text
        last = (await app.store.audit.recent(1, action="refused"))[0]
        assert last["target"] == f"class {other.id}"
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign LIKE 'remind%'") == 0
