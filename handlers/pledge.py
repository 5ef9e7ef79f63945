"""The safety pledge: read it, sign it, and sign again when the text gets a new version."""

from __future__ import annotations

from bot.clock import local_day, parse_iso
from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from handlers.common import button_arg

SIGN = "pledge:sign:"


def pledge_buttons(ctx: Context, version: int) -> list[Button]:
    """The sign button (carrying the version read) and a later button."""
    return [Button(ctx.t("pledge.sign"), f"{SIGN}{version}"), Button(ctx.t("pledge.later"), "pledge:later")]


async def show_pledge(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Show the current pledge and whether the person has signed it."""
    assert ctx.person is not None
    pledge = ctx.library.pledge
    latest = await ctx.store.pledges.latest(ctx.person.id)
    body = pledge.text.get(ctx.lang)
    if latest is not None and latest[0] >= pledge.version:
        day = local_day(parse_iso(latest[1]), ctx.config.tz)
        return [text(f"{body}\n\n" + ctx.t("pledge.already", day=day))]
    intro = ctx.t("pledge.new_version") if latest is not None else ctx.t("pledge.intro")
    return [text(f"{intro}\n\n{body}", pledge_buttons(ctx, pledge.version))]


async def sign_pledge(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Record the signature of the version the person read."""
    assert ctx.person is not None
    if msg.payload == "pledge:later":
        return [text(ctx.t("pledge.maybe_later"))]
    version = button_arg(msg.payload, SIGN)
    current = ctx.library.pledge.version
    if not version.isdigit() or int(version) != current:
        # They pressed the button of an older text: show the new one to read first.
        return [text(ctx.t("pledge.changed") + "\n\n" + ctx.library.pledge.text.get(ctx.lang),
                     pledge_buttons(ctx, current))]
    new = await ctx.store.pledges.sign(ctx.person.id, current, msg.platform)
    if not new:
        return [text(ctx.t("pledge.already_signed"))]
    return [text(ctx.t("pledge.thanks"), [Button(ctx.t("menu.checkin"), "/checkin"),
                                          Button(ctx.t("menu.quiz"), "/quiz")])]
