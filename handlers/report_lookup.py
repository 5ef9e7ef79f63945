"""/check <phone|account|link>: has this identifier (or, for a link, its site) been reported here? Never says by whom."""

from __future__ import annotations

from collections import Counter

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from handlers import report_escalation as esc
from handlers.identifiers import normalize_identifier, site_of


async def check_identifier(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Count earlier reports naming the identifier: how many, which fraud types, how recent."""
    query = msg.payload.strip()
    if not query:
        return [text(ctx.t("report.check_usage"))]
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
    types = Counter(row["fraud_type"] for row in rows)
    names = ", ".join(f"{ctx.library.type(tid).name.get(ctx.lang)} ×{n}" for tid, n in types.most_common(3))
    latest = esc.local_time(ctx.services, rows[0]["created_at"])[:10]
    return [text(ctx.t("report.check_found", identifier=identifier.normalized, kind=kind, n=len(rows),
                       types=names, latest=latest), report_button)]
