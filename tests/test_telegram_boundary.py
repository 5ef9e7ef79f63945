"""Telegram at the boundary: a Bot API stand-in that refuses what Telegram refuses, and the bot keeping
inside it (previews off, forum topics, unchanged keyboards), bad webhook bodies, privacy mode, silence."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.events import Button, Outgoing
from bot.serve import build_http
from tests.fakes.telegram import FakeBotApi
from tests.telegram_rig import SECURITY_CHAT, tg  # noqa: F401  (the fixture)
from tests.test_telegram_features import file_report

STUDENT = 611


async def test_the_stand_in_answers_400_with_telegrams_words(tg):  # noqa: F811
    bot = tg.channel.bot
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(STUDENT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(STUDENT, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("a", callback_data="d" * 65)]]))
    with pytest.raises(BadRequest, match="thread not found"):
        await bot.send_message(SECURITY_CHAT, "x", message_thread_id=99)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_document(STUDENT, b"x", caption="c" * 1025, filename="a.txt")


async def test_the_bot_stays_inside_telegrams_limits(tg):  # noqa: F811
    long_data = "rep:assign:" + "R-20261123-0001:" * 8                    # 139 bytes of callback data
    await tg.channel.send(STUDENT, Outgoing(text="长" * 9000, buttons=[[Button("指派", long_data)]]))
    sends = tg.api.calls_of("sendMessage", ok_only=False)
    assert sends and all(c.status == 200 for c in sends)
    assert len(sends) == 3


async def test_messages_are_sent_without_link_previews(tg, demo_class):  # noqa: F811
    await tg.channel.send(SECURITY_CHAT, Outgoing(text="R-1 网址 http://phish.example/login"))
    await tg.say(STUDENT, "有人发我 http://phish.example/pay 让我刷单")
    sends = tg.api.calls_of("sendMessage")
    assert len(sends) >= 2
    assert all(c.params.get("link_preview_options", {}).get("is_disabled") is True for c in sends), \
        [c.params for c in sends]


async def test_replies_go_to_the_forum_topic_they_came_from(tg):  # noqa: F811
    before = len(tg.api.sent_to(SECURITY_CHAT))
    tg.api.message(900, "/help", chat_id=SECURITY_CHAT, message_thread_id=42)
    await tg.settle()
    replies = tg.api.sent_to(SECURITY_CHAT)[before:]
    assert replies and all(m.get("message_thread_id") == 42 for m in replies)
    assert all(c.status == 200 for c in tg.api.calls_of("sendMessage", ok_only=False))


@pytest.mark.parametrize("kind, extra, expected", [
    ("voice", {"voice": {"file_id": "V1", "file_unique_id": "v", "duration": 3}}, "语音"),
    ("sticker", {"sticker": {"file_id": "S1", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
                             "is_animated": False, "is_video": False}}, "读不了"),
    ("location", {"location": {"latitude": 31.2, "longitude": 121.5}}, "读不了"),
    ("contact", {"contact": {"phone_number": "+8613800000000", "first_name": "骗子"}}, "读不了"),
])
async def test_unreadable_messages_in_a_private_chat_get_a_short_answer(tg, kind, extra, expected):  # noqa: F811
    tg.api.message(STUDENT, **extra)
    await tg.settle()
    texts = tg.api.texts_to(STUDENT)
    assert len(texts) == 1 and expected in texts[0], texts
    tg.api.message(STUDENT, chat_id=SECURITY_CHAT, **extra)            # in a group: nothing
    await tg.settle()
    assert tg.api.texts_to(SECURITY_CHAT) == []


async def test_a_second_press_on_a_submitted_form_leaves_its_keyboard_alone(tg, demo_class):  # noqa: F811
    await tg.bind(STUDENT, demo_class.join_code, "20231001")
    await file_report(tg, STUDENT, b"\x89PNG" + b"x" * 64)
    submit = next(c for c in tg.api.calls_of("sendMessage") if "rep:submit" in str(c.params.get("reply_markup")))
    preview = next(m for m in tg.api.sent_to(STUDENT) if m.get("text") == submit.params["text"])
    stale = {**preview, "reply_markup": submit.params["reply_markup"]}     # pressed again before it refreshed
    tg.api.push("callback_query", {"id": "cb-twice", "from": {"id": STUDENT, "is_bot": False, "first_name": "s"},
                                   "chat_instance": "1", "data": "rep:submit", "message": stale})
    await tg.settle()
    edits = tg.api.calls_of("editMessageReplyMarkup", ok_only=False)
    assert edits and all(c.status == 200 for c in edits), [(c.status, c.params) for c in edits]


async def test_privacy_mode_without_admin_rights_is_said_at_start(tg, caplog):  # noqa: F811
    setup = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "cannot read typed commands" in setup
    tg.api.bot_admin_in.add(SECURITY_CHAT)
    with caplog.at_level(logging.WARNING):
        assert await tg.channel.check_group_reading() is True
    assert "cannot read typed commands" not in caplog.text


@pytest.fixture
async def webhook(app):
    """The channel in webhook mode on the real shared HTTP server of `wuzha serve`."""
    api = await FakeBotApi().start()
    channel = TelegramChannel(app, api.token, base_url=api.root, webhook_url="https://bot.example.edu/tg/hook",
                              webhook_secret="s3cret", request_timeout=3)
    app.add_channel(channel)
    http = build_http(app)
    http.router.add_post(channel.webhook_path, channel.handle_webhook)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await channel.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/tg/hook"
    await channel.stop()
    await runner.cleanup()
    await api.stop()


@pytest.mark.parametrize("body", ["null", "[1,2]", "42", '"x"', "{}", '{"update_id": "x"}', "{", ""])
async def test_webhook_bodies_that_are_not_an_update_are_400(webhook, body, caplog):
    async with aiohttp.ClientSession() as session:
        with caplog.at_level(logging.WARNING):
            async with session.post(webhook, data=body, headers={SECRET_HEADER: "s3cret",
                                                                 "Content-Type": "application/json"}) as response:
                assert response.status == 400
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors and "refused a malformed Telegram webhook body" in caplog.text
