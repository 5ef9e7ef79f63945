"""/check <phone|account|link>: has this identifier (or, for a link, its site) been reported here? Never says by whom."""

from __future__ import annotations

from collections import Counter

from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from handlers import report_escalation as esc
from handlers.identifiers import extract_identifiers, normalize_identifier, site_of

CONVERSATION = "check"
MENTIONS_LOOKED_UP = 12     # identifiers of one free text looked up in the reports (words count as accounts)
MENTIONS_SHOWN = 3


async def check_identifier(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Count earlier reports naming the identifier: how many, which fraud types, how recent.

    Without one (the menu's 查询 key, a bare /check) it asks for it and takes the next message as it.
    """
    query = msg.payload.strip()
    if not query:
        ctx.begin(CONVERSATION, "identifier")
        return [text(ctx.t("report.check_prompt"))]
    identifier = normalize_identifier(query)
    if identifier is None:
        return [text(ctx.t("report.check_unreadable", text=query[:40]))]
    rows = await ctx.store.reports.lookup(identifier.normalized)
    report_button = [Button(ctx.t("report.btn_report"), "/report")]
    kind = ctx.t("report.kind." + identifier.kind)
    if identifier.kind == "url":
        site = site_of(identifier.normalized)
        if site is None and "/" not in identifier.normalized and not rows:
            # A bare t.cn says nothing: every short link there leads somewhere else.
            return [text(ctx.t("report.check_shortener", host=identifier.normalized), report_button)]
        if site is not None:
            seen = {row["id"] for row in rows}
            rows = sorted([*rows, *(r for r in await ctx.store.reports.lookup_site(site) if r["id"] not in seen)],
                          key=lambda row: row["created_at"], reverse=True)
    if not rows:
        return [text(ctx.t("report.check_none", identifier=identifier.normalized, kind=kind), report_button)]
    return [_found(identifier, rows, ctx, report_button)]


def _found(identifier, rows, ctx: Context, buttons: list[Button] | None = None) -> Outgoing:
    """How many cases named the identifier, of which types, how recently (never by whom)."""
    types = Counter(row["fraud_type"] for row in rows)
    names = ", ".join(f"{ctx.library.type(tid).name.get(ctx.lang)} ×{n}" for tid, n in types.most_common(3))
    latest = esc.local_time(ctx.services, rows[0]["created_at"])[:10]
    kind = ctx.t("report.kind." + identifier.kind)
    return text(ctx.t("report.check_found", identifier=identifier.normalized, kind=kind, n=len(rows),
                      types=names, latest=latest), buttons or [])


async def continue_check(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The message after a bare /check: the identifier to look up (a command or button leaves instead)."""
    ctx.end()
    if msg.media is not None or not msg.payload.strip():
        return [text(ctx.t("report.check_usage"))]
    return await check_identifier(msg, ctx)


async def reported_mentions(body: str, ctx: Context) -> list[Outgoing]:
    """For a free text (a forwarded link card, a pasted message): the identifiers in it that were reported."""
    found: list[Outgoing] = []
    for identifier in extract_identifiers(body)[:MENTIONS_LOOKED_UP]:
        rows = await ctx.store.reports.lookup(identifier.normalized)
        if rows:
            found.append(_found(identifier, rows, ctx))     # no buttons: the advice above has the options
    return found[:MENTIONS_SHOWN]


async def show_check_prompt(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The question a bare /check asked, again."""
    return [text(ctx.t("report.check_prompt"))]


FLOW = Conversation(CONVERSATION, {"identifier": continue_check}, show_check_prompt, commands=("check",))
