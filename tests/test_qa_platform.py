"""QA of the platform side as an operator runs it: concurrent traffic, restarts, config mistakes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys

import pytest

from bot.ratelimit import ChannelLimiter
from bot.serve import StartupError, serve
from storage.sqlite import SqliteDatabase as Database
from tests.telegram_rig import SECURITY_CHAT, close_rig, open_rig, tg  # noqa: F401  (the fixture)
from tests.test_telegram_features import _link, file_report

STUDENT = 611
OFFICER = 911


async def test_a_write_is_visible_to_the_next_read_while_other_reads_run(tmp_path):
    """300 people binding at once: each one's own row must be found right after it is written."""
    db = await Database(tmp_path / "race.db").open(migrate=False)
    try:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE)")
        await db.executemany("INSERT INTO t (k) VALUES (?)", [(f"seed{i}",) for i in range(50)])
        missing = []

        async def write_then_read(i: int) -> None:
            await db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
            if await db.fetchone("SELECT id FROM t WHERE k = ?", (f"k{i}",)) is None:
                missing.append(i)

        async def read_first_of_many() -> None:
            for _ in range(20):
                await db.fetchone("SELECT k FROM t")

        await asyncio.gather(*(write_then_read(i) for i in range(300)), *(read_first_of_many() for _ in range(30)))
        assert missing == []
    finally:
        await db.close()


async def test_the_card_keeps_its_next_buttons_when_its_edit_lands_before_the_press_is_answered(tg, demo_class):  # noqa: F811
    """The outbox edit of the card can reach Telegram before the press's own answer: the keyboard must stay."""
    await tg.bind(STUDENT, demo_class.join_code, "20231005")
    officer = await tg.app.store.people.create("S0001", None, "保卫处", role="security")
    await _link(tg, OFFICER, officer.id)
    await file_report(tg, STUDENT, b"\x89PNG" + b"x" * 64)
    case_no = await tg.app.store.db.fetchval("SELECT case_no FROM reports ORDER BY id DESC LIMIT 1")
    ref = f"card:{case_no}"
    await tg.api.wait_for(lambda: any(ref.removeprefix("card:") in t for t in tg.api.texts_to(SECURITY_CHAT)))
    message_id = await tg.app.store.telegram.message_for_ref(SECURITY_CHAT, ref)
    card = tg.api.messages[SECURITY_CHAT][message_id]
    before = card["text"]

    sender = tg.app.senders["telegram"]
    sender.limiter = ChannelLimiter(sender.channel.limits.per_second)   # as if the card were posted long ago
    tg.api.inject("answerCallbackQuery", status=0, delay_s=0.5)   # the card's edit goes out meanwhile
    tg.api.press(OFFICER, f"rep:ack:{case_no}", message_id, chat_id=SECURITY_CHAT)
    await tg.settle()
    await tg.api.wait_for(lambda: card["text"] != before)
    await asyncio.sleep(0.2)
    assert f"rep:resolve:{case_no}" in [d for _, d in tg.buttons(card)] if card.get("reply_markup") else False


def _serve(tmp_path, config_text: str, **env) -> subprocess.CompletedProcess:
    """Run `wuzha serve` as an operator would, in its own process; it must end by itself."""
    (tmp_path / "config.toml").write_text(config_text, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WUZHA_")}
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "config.toml"),
                           "--db", str(tmp_path / "wuzha.db"), "serve"],
                          capture_output=True, text=True, timeout=30, env={**clean, **env}, cwd=tmp_path)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_port_in_use_is_one_line_and_a_failing_exit(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _serve(tmp_path, f'[server]\nhost = "127.0.0.1"\nport = {port}\n')
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "in use" in lines[0], done.stderr


def test_a_wrong_bot_api_address_is_one_line_and_a_failing_exit(tmp_path):
    nowhere = f"http://127.0.0.1:{_free_port()}"
    done = _serve(tmp_path, f'[server]\nport = {_free_port()}\n[channels.telegram]\nenabled = true\n'
                            f'base_url = "{nowhere}"\n', WUZHA_TELEGRAM_TOKEN="123:abc")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "telegram" in last and nowhere in last, done.stderr


MONITOR = 621
OFFICER_EN = 922
STUDENT_AT_START = 623


def _personal_menu(api, chat_id: int) -> list[str] | None:
    """The command names set for one private chat (BotCommandScopeChat), or None."""
    scope = json.dumps({"chat_id": chat_id, "type": "chat"}, sort_keys=True)
    commands = api.commands.get((scope, ""))
    return None if commands is None else [c["command"] for c in commands]


async def test_a_monitor_who_binds_on_telegram_gets_the_monitor_menu_in_their_language(tg, demo_class):  # noqa: F811
    monitor = await tg.app.store.people.create("M0001", demo_class.id, "计算机学院", role="monitor")
    assert _personal_menu(tg.api, MONITOR) is None
    await tg.bind(MONITOR, demo_class.join_code, "M0001", lang="en")
    assert _personal_menu(tg.api, MONITOR) is None                  # a class code proves no monitor
    code, _ = await tg.app.store.invites.create(monitor.id, 7, "test")
    await tg.say(MONITOR, f"/start {code}")
    await tg.api.wait_for(lambda: _personal_menu(tg.api, MONITOR) is not None)
    menu = _personal_menu(tg.api, MONITOR)
    assert "class" in menu and "remind" in menu and "quiz" in menu
    scope = json.dumps({"chat_id": MONITOR, "type": "chat"}, sort_keys=True)
    descriptions = " ".join(c["description"] for c in tg.api.commands[(scope, "")])
    assert descriptions.isascii()                                   # the language they chose: English


async def test_bound_staff_get_their_own_menu_at_start_and_students_do_not(app, demo_class):
    officer = await app.store.people.create("S0009", None, "保卫处", role="security")
    student = await app.store.people.create("20239999", demo_class.id, "计算机学院")
    for user_id, person, lang in ((OFFICER_EN, officer, "en"), (STUDENT_AT_START, student, "zh")):
        account = await app.store.accounts.touch("telegram", str(user_id), str(user_id))
        await app.store.accounts.bind(account.id, person.id)
        await app.store.accounts.set_language(account.id, lang)
    rig, stop, senders = await open_rig(app)
    try:
        menu = _personal_menu(rig.api, OFFICER_EN)
        assert menu is not None and "stats" in menu and "warn" in menu
        assert _personal_menu(rig.api, STUDENT_AT_START) is None     # the shared private-chat menu is theirs
        shared = json.dumps({"type": "all_private_chats"}, sort_keys=True)
        assert "stats" not in [c["command"] for c in rig.api.commands[(shared, "en")]]
    finally:
        await close_rig(rig, stop, senders)


@pytest.mark.parametrize("targets, telegram, chat_id, robot_key, wecom, named", [
    (["telegram"], False, 0, "", False, "channels.telegram"),
    (["telegram"], True, 0, "", False, "security_chat_id"),
    (["wecom_robot"], False, 0, "", False, "WUZHA_WECOM_ROBOT_KEY"),
    (["console", "wecom_app"], False, 0, "", False, "channels.wecom"),
])
async def test_a_security_channel_that_reaches_nobody_stops_serve_before_it_starts(
        config, targets, telegram, chat_id, robot_key, wecom, named):
    """Report cards queued for a target that is not running would wait unseen: refuse to start instead."""
    config.security_channel.targets = targets
    config.channels.telegram.enabled = telegram
    config.channels.telegram.security_chat_id = chat_id
    config.channels.wecom.enabled = wecom
    config.secrets = {"WUZHA_WECOM_ROBOT_KEY": robot_key} if robot_key else {}
    with pytest.raises(StartupError) as refused:
        await serve(config)
    assert "security_channel.targets" in str(refused.value) and named in str(refused.value)
    assert "\n" not in str(refused.value)
