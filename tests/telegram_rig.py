"""The Telegram test rig: the real TelegramChannel (PTB Application) polling the fake Bot API server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from bot.channels.telegram import TelegramChannel
from tests.fakes.telegram import FakeBotApi

SECURITY_CHAT = -1001234500


@dataclass
class TelegramRig:
    """One running bot: the app, the fake server, the channel, and helpers to talk through it."""

    app: object
    api: FakeBotApi
    channel: TelegramChannel

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every update fed so far has been fully answered."""
        await self.api.wait_for(lambda: self.channel.handled >= len(self.api.updates), within=within)

    async def say(self, user_id: int, body: str, **kwargs) -> list[str]:
        """A user sends text; return the texts the bot has sent to that chat after it."""
        before = len(self.api.sent_to(kwargs.get("chat_id") or user_id))
        self.api.message(user_id, body, **kwargs)
        await self.settle()
        return self.api.texts_to(kwargs.get("chat_id") or user_id)[before:]

    async def press(self, user_id: int, data: str, message_id: int | None = None,
                    chat_id: int | None = None) -> list[str]:
        """A user presses a button (on the bot's last keyboard message in the chat unless told)."""
        chat = chat_id or user_id
        if message_id is None:
            message_id = self.last_keyboard(chat)["message_id"]
        before = len(self.api.sent_to(chat))
        self.api.press(user_id, data, message_id, chat_id=chat_id)
        await self.settle()
        return self.api.texts_to(chat)[before:]

    def last_keyboard(self, chat_id: int) -> dict:
        """The bot's newest message in a chat that still has an inline keyboard."""
        with_keyboard = [m for m in self.api.sent_to(chat_id) if m.get("reply_markup")]
        assert with_keyboard, f"no keyboard in chat {chat_id}: {self.api.texts_to(chat_id)}"
        return with_keyboard[-1]

    def buttons(self, message: dict) -> list[tuple[str, str]]:
        """(label, data) of a message's inline keyboard."""
        return [(b["text"], b["callback_data"]) for row in message["reply_markup"]["inline_keyboard"] for b in row]

    def data_of(self, chat_id: int, label_part: str) -> str:
        """The callback data of the newest button whose label contains label_part."""
        for message in reversed(self.api.sent_to(chat_id)):
            for label, data in self.buttons(message) if message.get("reply_markup") else []:
                if label_part in label:
                    return data
        raise AssertionError(f"no button labelled {label_part!r} in chat {chat_id}")

    async def bind(self, user_id: int, code: str, number: str, lang: str = "zh") -> None:
        """Onboard through a deep link: /start <code>, choose the language, give the number."""
        await self.say(user_id, f"/start {code}")
        await self.press(user_id, f"lang:{lang}")
        texts = await self.say(user_id, number)
        assert any("✅" in t or "linked" in t or "绑定成功" in t for t in texts), texts


async def open_rig(app, **channel_options) -> tuple[TelegramRig, asyncio.Event, asyncio.Task]:
    """Start the fake server, the channel (long polling) and the outbox senders."""
    api = await FakeBotApi(enforce_limits=channel_options.pop("enforce_limits", False)).start()
    app.config.channels.telegram.security_chat_id = SECURITY_CHAT
    app.config.security_channel.targets = ["telegram"]
    options = {"poll_timeout": 1.0, "request_timeout": 3.0, **channel_options}
    channel = TelegramChannel(app, api.token, base_url=api.root, **options)
    app.add_channel(channel, poll_s=0.05)
    try:
        await channel.start()
    except BaseException:
        await channel.application.shutdown()
        await api.stop()
        raise
    stop = asyncio.Event()
    senders = asyncio.create_task(app.run_senders(stop))
    return TelegramRig(app, api, channel), stop, senders


async def close_rig(rig: TelegramRig, stop: asyncio.Event, senders: asyncio.Task) -> None:
    """Stop senders, channel and server."""
    stop.set()
    await senders
    await rig.channel.stop()
    await rig.api.stop()


@pytest.fixture
async def tg(app):
    """A running Telegram bot on the fake Bot API server."""
    rig, stop, senders = await open_rig(app)
    yield rig
    await close_rig(rig, stop, senders)
