"""/check <phone|account|link>: has this identifier been reported here before? Never says by whom."""

from __future__ import annotations

from collections import Counter

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.identifiers import normalize_identifier
from handlers import report_escalation as esc

CONVERSATION = "check"


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
    if not rows:
        return [text(ctx.t("report.check_none", identifier=identifier.normalized, kind=kind), report_button)]
    types = Counter(row["fraud_type"] for row in rows)
    names = ", ".join(f"{ctx.library.type(tid).name.get(ctx.lang)} ×{n}" for tid, n in types.most_common(3))
    latest = esc.local_time(ctx.services, rows[0]["created_at"])[:10]
    return [text(ctx.t("report.check_found", identifier=identifier.normalized, kind=kind, n=len(rows),
                       types=names, latest=latest), report_button)]


async def continue_check(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The message after a bare /check: the identifier to look up (a command or button leaves instead)."""
    ctx.end()
    if msg.media is not None or not msg.payload.strip():
        return [text(ctx.t("report.check_usage"))]
    return await check_identifier(msg, ctx)
