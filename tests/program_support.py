"""Helpers for the program tests: local times on the fake clock, and draining pushes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support import RecordingChannel

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    """An aware Asia/Shanghai moment."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


async def drain(app, channel: RecordingChannel) -> list:
    """Deliver everything due on channel; return what it recorded since."""
    sender = app.senders.get(channel.name) or app.add_channel(channel)
    before = len(channel.sent)
    while await sender.drain_once():
        pass
    return channel.sent[before:]


async def bound_users(user_factory, demo_class, *keys: str, lang: str = "zh"):
    """Bind one chat user per key (numbers 2023000 + n)."""
    users = []
    for n, key in enumerate(keys, 1):
        user = user_factory(key)
        await user.bind(demo_class.join_code, f"20230{n:02d}", lang=lang)
        users.append(user)
    return users
