"""Links that open the bot: the Telegram deep link carrying a start code."""

from __future__ import annotations


def deep_link(config, code: str = "") -> str:
    """t.me/<bot>?start=<code> ('' when identity.telegram_bot is not configured)."""
    bot = config.identity.telegram_bot.lstrip("@")
    if not bot:
        return ""
    return f"https://t.me/{bot}?start={code}" if code else f"https://t.me/{bot}"
