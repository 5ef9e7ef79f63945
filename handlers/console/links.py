"""One-time console sign-in links: /console in chat sends one, `wuzha console link` prints one."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.context import Context
from bot.events import Incoming, Outgoing, text
from bot.web.sessions import digest

LINK_LIFETIME = timedelta(minutes=10)


def base_url(config) -> str:
    """The console's address as browsers reach it."""
    return config.server.public_url or f"http://{config.server.host}:{config.server.port}"


async def issue_link(services, person_id: int) -> str:
    """A new single-use sign-in link for the person, valid for ten minutes."""
    token = secrets.token_urlsafe(32)
    await services.store.console.add_link(digest(token), person_id, LINK_LIFETIME)
    return f"{base_url(services.config)}/console/login?token={token}"


async def send_console_link(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/console: a sign-in link for the office console, only in a private chat."""
    if msg.is_group:
        return [text(ctx.t("console.link_private_only"))]
    assert ctx.person is not None
    url = await issue_link(ctx.services, ctx.person.id)
    await ctx.audit("console.link", "chat")
    return [text(ctx.t("console.link_sent", url=url, minutes=int(LINK_LIFETIME.total_seconds() // 60)))]
