"""Help, cancel, me, and the answers for input nothing else claims."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Context
from bot.events import Incoming, Outgoing, text
from bot.links import deep_link
from handlers.common import bullet_list


async def show_help(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """List what this user's role may do."""
    lines = [f"/{c.name} — {ctx.t(c.help_key)}" for c in ctx.routes.visible_commands(ctx.role)]
    header = ctx.t("help.title_guest") if ctx.person is None else ctx.t("help.title")
    footer = ctx.t("help.footer")
    if ctx.state is not None:
        footer = ctx.t("help.in_conversation") + "\n" + footer
    return [text(f"{header}\n" + "\n".join(lines) + f"\n\n{footer}")]


async def cancel_conversation(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Leave whatever conversation the user is in."""
    if ctx.state is None:
        return [text(ctx.t("cancel.nothing"))]
    ctx.end(resume=False)
    return [text(ctx.t("cancel.done"))]


async def show_me(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Show what the bot knows about the user and their progress."""
    from handlers.progress import progress_lines

    person = ctx.person
    assert person is not None
    klass = await ctx.store.classes.get(person.class_id) if person.class_id else None
    tags = ", ".join(ctx.t(f"tag.{t}") for t in sorted(person.tag_set)) or ctx.t("common.none")
    lines = [
        ctx.t("me.title"),
        ctx.t("me.number", number=person.person_no or "-"),
        ctx.t("me.name", name=person.name or ctx.t("me.name_not_kept")),
        ctx.t("me.role", role=ctx.t(f"role.{ctx.role}")),
        ctx.t("me.class", klass=klass.name if klass else "-", college=person.college or "-"),
        ctx.t("me.tags", tags=tags),
        ctx.t("me.language"),
        "",
        *await progress_lines(ctx),
    ]
    from handlers.identity import linked_chats

    chats, buttons = await linked_chats(ctx)
    return [text("\n".join([*lines, "", *chats]), *buttons)]


async def answer_unmatched_text(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Free text that no feature claimed: a polite pointer to /help."""
    return [text(ctx.t("error.not_understood"))]


async def answer_media(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A file outside a report: explain where files are kept."""
    return [text(ctx.t("media.outside_report"))]


async def greet_new_contact(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Someone subscribed or opened the chat: start onboarding; added to a group: introduce the bot once."""
    from handlers.onboarding import start_onboarding

    if msg.is_group:
        return [] if msg.security_group else [text(ctx.t("identity.group_intro", link=_private_link(ctx)))]
    return await start_onboarding(msg, ctx)


async def point_to_private_chat(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A personal command in a group: one line pointing to the private chat, nothing collected here."""
    return [text(ctx.t("identity.private_only", link=_private_link(ctx)))]


def _private_link(ctx: Context) -> str:
    return deep_link(ctx.config, "") or ctx.t("identity.private_chat")


async def mark_left(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Someone unsubscribed or blocked the bot: stop pushing to this account."""
    await ctx.store.accounts.mark_unreachable(ctx.account.id, "left")
    return []


def days_back(today: str, days: int) -> str:
    """The date `days` before today, 'YYYY-MM-DD'."""
    from datetime import date

    return (date.fromisoformat(today) - timedelta(days=days)).isoformat()


def format_list(ctx: Context, items) -> str:
    """Bullet lines, or 'none' when empty."""
    return bullet_list(items) if items else ctx.t("common.none")
