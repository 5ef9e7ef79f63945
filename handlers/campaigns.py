"""The letter to families, and opting out of (and back into) the daily pushes."""

from __future__ import annotations

from datetime import date

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.library.campaigns import calendar_of

LETTER = "letter:"


def letter_text(translate, campaign, lang: str) -> str:
    """The letter with its forwarding note."""
    return f"{campaign.intro.get(lang)}\n\n{campaign.letter.get(lang).strip()}\n\n" + translate("letter.forward", lang)


async def show_letter(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/letter: the letter to families in the user's language, with the other language a button away."""
    campaign = calendar_of(ctx.library).letter(date.fromisoformat(ctx.today()))
    if campaign is None or campaign.letter is None:
        return [text(ctx.t("letter.none"))]
    lang = msg.payload.removeprefix(LETTER).strip().lower()
    lang = lang if lang in ("zh", "en") else ctx.lang
    other = "en" if lang == "zh" else "zh"
    return [text(letter_text(ctx.services.translate, campaign, lang),
                 [Button(ctx.t(f"letter.in_{other}"), f"{LETTER}{other}")])]


async def stop_pushes(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/stop: no more daily self-checks, weekly warnings or campaign pushes."""
    assert ctx.person is not None
    await ctx.store.people.set_opt_out(ctx.person.id, True)
    return [text(ctx.t("optout.stopped"))]


async def resume_pushes(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/resume: the daily pushes again."""
    assert ctx.person is not None
    await ctx.store.people.set_opt_out(ctx.person.id, False)
    return [text(ctx.t("optout.resumed"))]


async def show_pushes(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/pushes (security office): the outbox by state, and the latest rows that failed for good."""
    counts = await ctx.store.outbox.counts()
    lines = [ctx.t("pushes.title", **counts),
             ctx.t("pushes.unreachable_accounts", count=await ctx.store.accounts.unreachable_count())]
    dead = await ctx.store.outbox.latest_dead()
    if dead:
        lines.append(ctx.t("pushes.dead_title"))
        lines += [ctx.t("pushes.dead_item", campaign=r["campaign"], channel=r["channel"], error=r["error"] or "-")
                  for r in dead]
    return [text("\n".join(lines))]
