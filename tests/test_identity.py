"""Identity that cannot be borrowed: the classmate's attacks refused, invites, "not me", chats per person."""

from __future__ import annotations

import subprocess
import sys

from bot import unproven
from storage.people import RosterRow
from tests.support import User
from tests.test_report_flow import cards, drain, security_channel

ROSTER = [
    RosterRow("2023001", "张三", "计算机学院", ["计科2301"], None, "student", []),
    RosterRow("2023002", "李四", "计算机学院", ["计科2301"], None, "monitor", []),
    RosterRow("S900", "王科长", "保卫处", ["保卫处 教职工 staff"], None, "security", []),
]


async def roster(app):
    """The roster above; returns (class code, staff group code)."""
    await app.store.people.upsert_roster(ROSTER)
    klass = await app.store.classes.by_name("计科2301")
    office = await app.store.classes.by_name("保卫处 教职工 staff")
    return klass.join_code, office.join_code


async def invite(app, number: str, days: int = 7) -> str:
    """A personal invite for the person, as `wuzha roster invite` makes it."""
    person = await app.store.people.by_number(number)
    code, _ = await app.store.invites.create(person.id, days, "os:test")
    return code


async def a_real_case(app) -> str:
    """A student's filed report: what the attacker is after."""
    student = User(app, "real-student")
    await student.bind((await app.store.classes.by_name("计科2301")).join_code, "2023001", name="张三")
    await student.say("/report")
    await student.press("rep:money:money")
    await student.say("有人冒充快递客服让我开了屏幕共享，卡里的钱被转走了")
    return "R-2026-000001"


# --- the attacks of the issue, through the real dispatcher ------------------------------------------
async def test_class_code_monitor_number_and_name_give_only_student_rights(app, user_factory):
    class_code, _ = await roster(app)
    mallory = user_factory("mallory")
    await mallory.bind(class_code, "2023002", name="李四")
    assert "身份：学生" in mallory.text and "班长" in mallory.text and "个人邀请码" in mallory.text
    await mallory.say("/class")
    assert "不能使用" in mallory.text and "张三" not in mallory.text


async def test_staff_group_code_and_an_officers_number_see_no_report(app, user_factory):
    _, staff_code = await roster(app)
    security_channel(app)
    officer = user_factory("real-officer")
    await officer.say(f"/start {await invite(app, 'S900')}")
    assert "身份：保卫处" in officer.text
    case_no = await a_real_case(app)
    mallory = user_factory("mallory")
    await mallory.bind(staff_code, "S900", name="王科长")
    assert "身份：学生" in mallory.text
    for attempt in ("/reports", f"/casefile {case_no}", f"查看 {case_no}", f"受理 {case_no}"):
        await mallory.say(attempt)
        assert "不能使用" in mallory.text and "屏幕共享" not in mallory.text, attempt
    await mallory.press(f"rep:ack:{case_no}")
    assert "不能使用" in mallory.text
    # Cards of new cases still go to the real officer's chat, never to the borrowed one.
    await drain(app)
    mallory_account = await app.store.accounts.find("test", "mallory")
    rows = await app.store.db.fetchall("SELECT account_id FROM outbox WHERE campaign LIKE 'report%'")
    assert mallory_account.id not in {r[0] for r in rows}
    assert await cards(app)


async def test_a_wrong_name_counts_as_a_wrong_try(app, user_factory):
    class_code, _ = await roster(app)
    eve = user_factory("eve")
    await eve.say("/start")
    await eve.press("lang:zh")
    await eve.say(class_code)
    await eve.say("2023001")
    await eve.say("李四")
    assert "姓名与名单不符" in eve.text and "4 次" in eve.text
    assert (await app.store.accounts.find("test", "eve")).person_id is None
    await eve.say("张　三")                         # a full-width space is tolerated
    assert "绑定成功" in eve.text


# --- personal invites ---------------------------------------------------------------------------------
async def test_an_invited_officer_binds_in_one_step_and_sees_the_cases(app, user_factory):
    await roster(app)
    security_channel(app)
    case_no = await a_real_case(app)
    officer = user_factory("officer")
    await officer.say(f"/start {await invite(app, 'S900')}")
    assert "身份：保卫处" in officer.text
    await officer.say("/reports")
    assert case_no in officer.text


async def test_an_invite_typed_where_the_class_code_is_asked_binds_with_the_role(app, user_factory):
    await roster(app)
    code = await invite(app, "2023002")
    monitor = user_factory("monitor")
    await monitor.say("/start")
    await monitor.press("lang:en")
    await monitor.say(code.lower())
    assert "role: class monitor" in monitor.text
    await monitor.say("/class")
    assert "张三" in monitor.text


async def test_invites_are_single_use_expire_and_can_be_revoked(app, clock, user_factory):
    await roster(app)
    code = await invite(app, "S900", days=1)
    first, second = user_factory("first"), user_factory("second")
    await first.say(f"/start {code}")
    assert "身份：保卫处" in first.text
    await second.say(f"/start {code}")
    assert "已经用过" in second.text
    assert (await app.store.accounts.find("test", "second")).person_id is None

    late = await invite(app, "2023002", days=1)
    clock.advance(days=1, minutes=1)
    await second.say(f"/start {late}")
    assert "已过期" in second.text

    revoked = await invite(app, "2023002")
    person = await app.store.people.by_number("2023002")
    assert await app.store.invites.revoke(person.id) == 2       # the expired one is revoked with it
    await second.say(f"/start {revoked}")
    assert "已被撤销" in second.text and (await app.store.accounts.find("test", "second")).person_id is None
    refused = [r["target"] for r in await app.store.audit.recent(action="identity.invite_refused")]
    assert sorted(refused) == ["expired", "revoked", "used"]


async def test_only_the_office_or_an_admin_invites_in_chat_and_it_is_audited(app, user_factory):
    class_code, _ = await roster(app)
    student = user_factory("student")
    await student.bind(class_code, "2023001", name="张三")
    await student.say("/invite 2023002")
    assert "不能使用" in student.text
    officer = user_factory("officer")
    await officer.say(f"/start {await invite(app, 'S900')}")
    app.config.identity.telegram_bot = "wuzha_bot"
    await officer.say("/invite 2023002")
    code = officer.text.split("个人邀请码：")[1].split("（")[0]
    assert f"https://t.me/wuzha_bot?start={code}" in officer.text
    entry = (await app.store.audit.recent(action="identity.invite_created"))[0]
    person = await app.store.people.by_number("2023002")
    assert entry["target"] == f"#{person.id}" and entry["actor_person_id"] is not None


def test_the_cli_prints_one_invite_per_person_and_records_the_os_user(tmp_path):
    db = str(tmp_path / "w.db")
    csv = tmp_path / "roster.csv"
    csv.write_text("学号,姓名,学院,班级,身份\nS900,王科长,保卫处,,保卫处\n2023002,李四,计算机学院,计科2301,班长\n",
                   encoding="utf-8")
    run = [sys.executable, "-m", "bot", "--db", db]
    assert subprocess.run([*run, "roster", "import", str(csv)], capture_output=True).returncode == 0
    out = tmp_path / "invites.csv"
    result = subprocess.run([*run, "roster", "invite", "S900", "2023002", "--days", "3", "--csv", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "valid until" in line]
    assert [line.split()[0] for line in lines] == ["S900", "2023002"]
    assert len(lines[0].split()[1]) == 12 and out.exists()
    audit = subprocess.run([*run, "audit", "--action", "identity.invite_created"], capture_output=True, text=True)
    assert audit.stdout.count("by=os:") == 2


# --- bindings the owner can see -------------------------------------------------------------------------
async def test_the_real_person_is_told_and_not_me_unbinds_the_newcomer(app, user_factory):
    class_code, _ = await roster(app)
    security_channel(app)
    real = user_factory("real-li")
    await real.say(f"/start {await invite(app, '2023002')}")
    mallory = user_factory("mallory")
    await mallory.bind(class_code, "2023002", name="李四")
    await drain(app)
    notices = [m for m in app.channels["test"].to("real-li") if "新的聊天" in (m.text or "")]
    assert len(notices) == 1
    button = notices[0].flat_buttons()[0]
    assert button.label == "这不是我"
    await real.press(button.data)
    assert "已解除" in real.text
    assert (await app.store.accounts.find("test", "mallory")).person_id is None
    alerts = [m for m in await cards(app) if "身份冒用" in (m.text or "")]
    assert len(alerts) == 1 and "2023002" in alerts[0].text


async def test_a_class_code_chat_cannot_throw_out_a_proven_one(app, user_factory):
    class_code, _ = await roster(app)
    security_channel(app)
    mallory = user_factory("mallory")
    await mallory.bind(class_code, "2023002", name="李四")
    real = user_factory("real-li")
    await real.say(f"/start {await invite(app, '2023002')}")
    await drain(app)
    notice = next(m for m in app.channels["test"].to("mallory") if "新的聊天" in (m.text or ""))
    await mallory.press(notice.flat_buttons()[0].data)
    assert "不能解除" in mallory.text
    assert (await app.store.accounts.find("test", "real-li")).person_id is not None


async def test_at_most_max_accounts_chats_and_a_proven_binding_ends_class_code_ones(app, user_factory):
    class_code, _ = await roster(app)
    for key in ("a", "b"):
        await user_factory(key).bind(class_code, "2023001", name="张三")
    third = user_factory("c")
    await third.say("/start")
    await third.press("lang:zh")
    await third.say(class_code)
    await third.say("2023001")
    await third.say("张三")
    assert "已经绑定了 2 个聊天" in third.text
    assert (await app.store.accounts.find("test", "c")).person_id is None
    await third.say(f"/start {await invite(app, '2023001')}")
    assert "绑定成功" in third.text
    person = await app.store.people.by_number("2023001")
    assert [a.user_key for a in await app.store.accounts.for_person(person.id)] == ["c"]


# --- existing privileged bindings re-proven -------------------------------------------------------------
async def test_privileged_class_code_bindings_are_listed_to_the_office_once(app, capsys):
    await roster(app)
    security_channel(app)
    officer = await app.store.people.by_number("S900")
    account = await app.store.accounts.touch("test", "old-officer", "old-officer")
    await app.store.accounts.bind(account.id, officer.id, proof="code")   # as the migration marks old ones
    await unproven.start(app, None)
    await unproven.start(app, None)
    assert "1 privileged person(s)" in capsys.readouterr().out
    notices = [m for m in await cards(app) if "S900" in (m.text or "")]
    assert len(notices) == 1 and "wuzha roster invite" in notices[0].text
    assert await app.store.reports.office_people([]) == []       # and no card goes to that chat


# --- audit of what was refused ------------------------------------------------------------------------------
async def test_refused_attempts_are_audited_and_five_in_ten_minutes_alert_the_office_once(app, user_factory):
    class_code, _ = await roster(app)
    security_channel(app)
    mallory = user_factory("mallory")
    await mallory.bind(class_code, "2023002", name="李四")
    await mallory.say("/help")                          # allowed: not audited
    for attempt in ("/reports", "/class", "查看 R-2026-000001", "受理 R-2026-000001", "/invite 2023001", "/stats"):
        await mallory.say(attempt)
    await mallory.press("rep:ack:R-2026-000001")
    refused = await app.store.audit.recent(action="refused")
    assert [r["target"] for r in reversed(refused)] == [
        "/reports", "/class", "查看 R-2026-000001", "受理 R-2026-000001", "/invite", "/stats", "rep:ack:R-2026-000001"]
    assert all(r["actor_account_id"] for r in refused)
    alerts = [m for m in await cards(app) if "越权尝试" in (m.text or "")]
    assert len(alerts) == 1 and "2023002" in alerts[0].text


def test_wuzha_audit_refused_lists_them(tmp_path):
    db = str(tmp_path / "w.db")
    run = [sys.executable, "-m", "bot", "--db", db]
    chat = subprocess.run([*run, "chat"], input="/reports\n/stats\n", capture_output=True, text=True)
    assert chat.returncode == 0, chat.stderr
    listed = subprocess.run([*run, "audit", "--refused"], capture_output=True, text=True)
    assert listed.returncode == 0 and "refused" in listed.stdout and "/stats" in listed.stdout


async def test_me_lists_the_linked_chats_and_unlinks_another(app, user_factory):
    class_code, _ = await roster(app)
    phone = user_factory("phone")
    await phone.say(f"/start {await invite(app, '2023001')}")
    laptop = user_factory("laptop")
    await laptop.bind(class_code, "2023001", name="张三")
    await phone.say("/me")
    assert "绑定了你身份的聊天" in phone.text and "（当前聊天）" in phone.text and phone.text.count("test，绑定于") == 2
    await phone.press_label("解除第")
    assert "已解除" in phone.text
    assert (await app.store.accounts.find("test", "laptop")).person_id is None
