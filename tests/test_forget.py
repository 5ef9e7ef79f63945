"""Erasure that erases: every table walked after `forget`, the tombstone and --restore."""

from __future__ import annotations

import subprocess
import sys

from bot.identity_cli import forget_person
from storage.people import RosterRow
from tests.support import User
from tests.test_report_flow import security_channel

NUMBER, NAME, DORM, KEY = "2023077", "赵小燕", "梅园7-301", "zhao-chat"
STORY = "有人冒充快递客服让我开了屏幕共享，卡里的三千块钱被转走了"
# Tables whose rows stay, attached only to the blank person row, as the school's anonymous figures.
ANONYMOUS_RECORDS = {"people", "checkins", "checkin_days", "pledges", "quiz_attempts", "drill_results",
                     "contest_results", "warnings_sent", "drill_assignments", "audit_log"}


async def everything_of_theirs(app) -> tuple[User, int, str]:
    """A student with a chat, a pledge, a check-in, a report with a story and a photo, pushes queued, a form open."""
    await app.store.people.upsert_roster([RosterRow(NUMBER, NAME, "计算机学院", ["计科2301"], DORM, "student", [])])
    klass = await app.store.classes.by_name("计科2301")
    security_channel(app)
    user = User(app, KEY)
    await user.bind(klass.join_code, NUMBER, name=NAME)
    await user.say("/pledge")
    await user.press_label("签")
    await user.say("/report")
    await user.press("rep:money:money")
    await user.say(STORY)
    await user.send_file(b"\x89PNG" + b"x" * 64)
    person = await app.store.people.by_number(NUMBER)
    await app.store.invites.create(person.id, 7, "test")
    await the_newer_tables(app, user, person.id)
    evidence = await app.store.db.fetchval("SELECT path FROM report_evidence")
    assert (app.config.evidence_path / evidence).exists()
    pending = await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE person_id = ? AND state = 'pending'",
                                          (person.id,))
    assert pending >= 3                                   # the care follow-ups of day 1, 3 and 7
    return user, person.id, evidence


async def the_newer_tables(app, user: User, person_id: int) -> None:
    """What the tables added since hold of them: a sign-on link, console sign-in, a review, a callback phone,
    an office alert about their chat, a callback in the inbox."""
    from datetime import timedelta

    account = await app.store.accounts.find("test", KEY)
    await app.store.sso_links.create(account.id)
    await app.store.console.add_link("a" * 64, person_id, timedelta(minutes=10))
    await app.store.console.add_session("b" * 64, person_id, "csrf", "zh")
    report_id = await app.store.db.fetchval("SELECT id FROM reports")
    await app.store.reports.update(report_id, callback_phone="13912345678")
    await app.store.reports.add_review(report_id, None, "2026-11-24", f"约谈了{NAME}（{DORM}）", "无责任",
                                       f"{NAME}已拿回部分钱款")
    for attempt in ("/reports", "/stats", "/class", "/invite", "/export"):
        await user.say(attempt)                   # five refusals: an office alert naming them
    alerts = await app.store.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE campaign = 'identity.refusals' AND payload LIKE ?", (f"%{NUMBER}%",))
    assert alerts >= 1


async def test_forget_walks_every_table_and_leaves_nothing_of_theirs(app):
    user, person_id, evidence = await everything_of_theirs(app)
    account = await app.store.accounts.find("test", KEY)
    kept = await forget_person(app, person_id)
    assert kept["pushes_cancelled"] >= 3 and kept["descriptions_deleted"] == 1 and kept["evidence_deleted"] == 1
    assert kept["reports"] == 1 and kept["accounts_deleted"] == 1
    assert not (app.config.evidence_path / evidence).exists()
    tables = [r[0] for r in await app.store.db.fetchall(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'" if app.config.uses_postgres
        else "SELECT name FROM sqlite_master WHERE type = 'table'")]
    personal = (NUMBER, NAME, DORM, KEY, STORY[:12], "13912345678")
    walked = 0
    for table in tables:
        for row in await app.store.db.fetchall(f"SELECT * FROM {table}"):
            for column in row.keys():
                value = row[column]
                walked += 1
                if isinstance(value, str):
                    assert not any(p in value for p in personal), (table, column, value[:80])
                if column in ("account_id", "reporter_account_id", "actor_account_id", "used_by"):
                    assert value != account.id or table == "audit_log", (table, column)
                if column.endswith("person_id") or column in ("acknowledged_by", "assigned_to"):
                    assert value != person_id or table in ANONYMOUS_RECORDS, (table, column)
    assert walked > 100
    for table in ("sso_links", "console_links", "console_sessions"):
        assert await app.store.db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table

    # The case stays, as an anonymous record that still adds up in the figures.
    report = await app.store.db.fetchone("SELECT * FROM reports")
    assert report["case_no"] and report["urgent"] == 1 and report["description"] is None
    assert report["reporter_person_id"] is None and report["class_id"] is None
    review = await app.store.reports.review(report["id"])           # the review keeps its day and conclusion
    assert review.interviewed_on == "2026-11-24" and review.responsibility == "无责任"
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM report_events WHERE report_id = ?", (report["id"],))
    # The chat is a stranger now.
    await user.say("/me")
    assert "/start" in user.text


def test_a_roster_import_skips_the_forgotten_unless_restored(tmp_path):
    run = [sys.executable, "-m", "bot", "--db", str(tmp_path / "w.db")]
    roster = tmp_path / "r.csv"
    roster.write_text(f"学号,姓名,学院,班级\n{NUMBER},{NAME},文学院,中文2401\n2023078,钱一,文学院,中文2401\n",
                      encoding="utf-8")
    assert subprocess.run([*run, "roster", "import", str(roster)], capture_output=True).returncode == 0
    forgot = subprocess.run([*run, "forget", NUMBER], capture_output=True, text=True)
    assert forgot.returncode == 0 and "keyed hash" in forgot.stdout and "anonymous case records" in forgot.stdout
    again = subprocess.run([*run, "roster", "import", str(roster)], capture_output=True, text=True)
    assert "1 forgotten person(s) skipped" in again.stdout and "0 added, 1 updated" in again.stdout
    restored = subprocess.run([*run, "roster", "import", str(roster), "--restore", NUMBER],
                              capture_output=True, text=True)
    assert "1 added, 1 updated" in restored.stdout and "skipped" not in restored.stdout
    audit = subprocess.run([*run, "audit", "--action", "person.forget"], capture_output=True, text=True)
    assert "by=os:" in audit.stdout
    db = sqlite_rows(tmp_path / "w.db", "SELECT number_hash FROM tombstones")
    assert db == []


def sqlite_rows(path, sql: str) -> list:
    """Rows of a query on a database file, outside the app."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()
