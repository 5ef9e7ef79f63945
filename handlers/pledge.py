"""The safety pledge: read it, sign it, and sign again when the text gets a new version."""

from __future__ import annotations

from dataclasses import replace

from bot.choices import is_no, is_yes
from bot.clock import local_day, parse_iso
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.library.matcher import detect_intent
from handlers.common import button_arg

SIGN = "pledge:sign:"
LATER = "pledge:later"
CONVERSATION = "pledge"
SHORT_ANSWER = 12          # longer text at the pledge is something else the person wants to say
_AGREE = {"我同意", "同意签署", "签署", "签", "我签", "sign", "i sign", "sign it", "i agree"}


def pledge_buttons(ctx: Context, version: int) -> list[Button]:
    """The sign button (carrying the version read) and a later button."""
    return [Button(ctx.t("pledge.sign"), f"{SIGN}{version}"), Button(ctx.t("pledge.later"), LATER)]


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
    ctx.begin(CONVERSATION, "sign", version=pledge.version)
    return [text(f"{intro}\n\n{body}", pledge_buttons(ctx, pledge.version))]


async def sign_pledge(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Record the signature of the version the person read."""
    assert ctx.person is not None
    if ctx.in_conversation(CONVERSATION):
        ctx.end()
    if msg.payload == LATER:
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


async def answer_in_words(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Text at the pledge: yes / 'I agree' signs the version shown, no is 'later', anything else asks again."""
    words = msg.payload.strip().lower()
    if is_yes(words) or words in _AGREE:
        return await sign_pledge(replace(msg, payload=f"{SIGN}{ctx.state.data.get('version', '')}"), ctx)
    if is_no(words):
        return await sign_pledge(replace(msg, payload=LATER), ctx)
    if len(words) > SHORT_ANSWER or detect_intent(words):   # something else to say: hear it out
        return await ctx.routes.free_text(msg, ctx)
    return [text(ctx.t("pledge.sign_or_later")), *await show_pledge_again(msg, ctx)]


async def show_pledge_again(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The pledge waiting to be signed, again."""
    pledge = ctx.library.pledge
    return [text(pledge.text.get(ctx.lang), pledge_buttons(ctx, pledge.version))]


FLOW = Conversation(CONVERSATION, {"sign": answer_in_words}, show_pledge_again, buttons=("pledge:",),
                    commands=("pledge",))
