"""Group chats never show or collect personal data: through the real Telegram route (PTB on the fake Bot API)."""

from __future__ import annotations

import time

from bot.events import Incoming, Kind
from tests.fakes.telegram import BOT_USERNAME, _bot, _chat, _user
from tests.telegram_rig import tg  # noqa: F401  (the fixture)

STUDENT = 611
CLASS_GROUP = -1005550001


async def test_personal_commands_in_a_class_group_only_point_to_the_private_chat(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231011")
    for command in ("/me", "/report", "/myreports", "/checkin", "/quiz", "/pledge", "/check 13800138000",
                    "/drill", f"/start {demo_class.join_code}"):
        first = command.split()[0]
        said = await tg.say(STUDENT, command.replace(first, f"{first}@{BOT_USERNAME}"), chat_id=CLASS_GROUP)
        assert len(said) == 1 and f"t.me/{BOT_USERNAME}" in said[0], (command, said)
        assert "20231011" not in said[0] and "计科2301" not in said[0]
    account = await tg.app.store.accounts.find("telegram", str(STUDENT))
    assert await tg.app.store.conversations.get(account.id) is None          # no form was opened there
    assert await tg.app.store.db.fetchval("SELECT COUNT(*) FROM reports") == 0
    # In the private chat the same command works as before.
    said = await tg.say(STUDENT, "/me")
    assert any("20231011" in t for t in said)


async def test_the_bot_introduces_itself_once_when_added_to_a_class_group(tg):  # noqa: F811
    body = {"chat": _chat(CLASS_GROUP), "from": _user(STUDENT), "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": _bot()},
            "new_chat_member": {"status": "member", "user": _bot()}}
    tg.api.push("my_chat_member", body)
    await tg.settle()
    texts = tg.api.texts_to(CLASS_GROUP)
    assert len(texts) == 1 and "私聊" in texts[0] and f"t.me/{BOT_USERNAME}" in texts[0]


async def test_the_security_group_keeps_the_office_commands(app, user_factory):
    officer_person = await app.store.people.create("S0611", None, "保卫处", role="security")
    account = await app.store.accounts.touch("test", "officer", "officer")
    await app.store.accounts.bind(account.id, officer_person.id, proof="invite")
    in_office = Incoming("test", "officer", "officer", Kind.TEXT, "/reports", is_group=True, security_group=True)
    assert "私聊" not in (await app.handle(in_office))[0].text
    in_class = Incoming("test", "officer", "officer", Kind.TEXT, "/reports", is_group=True)
    assert "私聊" in (await app.handle(in_class))[0].text


async def test_a_forged_button_and_office_commands_in_a_class_group_only_point_to_the_private_chat(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231011")
    said = await tg.say(STUDENT, f"/stats@{BOT_USERNAME}", chat_id=CLASS_GROUP)
    assert len(said) == 1 and f"t.me/{BOT_USERNAME}" in said[0]
    on_screen = tg.api.sent_to(CLASS_GROUP)[-1]["message_id"]
    for forged in ("rep:money:money", "pledge:sign", "chat:unlink:1", "lang:en"):
        said = await tg.press(STUDENT, forged, message_id=on_screen, chat_id=CLASS_GROUP)
        assert len(said) <= 1 and all(f"t.me/{BOT_USERNAME}" in t for t in said), (forged, said)
    account = await tg.app.store.accounts.find("telegram", str(STUDENT))
    assert await tg.app.store.conversations.get(account.id) is None
    assert account.language == "zh"
    for command in ("/export", "/console", "/remind", "/log"):
        said = await tg.say(STUDENT, f"{command}@{BOT_USERNAME}", chat_id=CLASS_GROUP)
        assert len(said) == 1 and f"t.me/{BOT_USERNAME}" in said[0], (command, said)
