"""The audit page: who viewed report details and who exported what, with filters."""

from __future__ import annotations

import json

from bot.context import Context
from handlers import report_escalation as esc


async def audit_page(ctx: Context, query) -> dict:
    """Audit entries matching action / person / target / since-day filters, newest first."""
    action = query.get("action", "")[:60]
    target = query.get("target", "").strip()[:60]
    since = query.get("since", "").strip()[:10]
    actor_key = query.get("person", "").strip()[:30]
    actor = await ctx.store.people.resolve(actor_key) if actor_key else None
    if actor_key and actor is None:
        rows = []
    else:
        since_iso = since + "T00:00:00" if len(since) == 10 and since[4] == "-" and since[7] == "-" else ""
        rows = await ctx.store.console.audit(action, actor.id if actor else None, target, since_iso)
    entries = [{"at": esc.local_time(ctx.services, r["at"]),
                "who": await esc.person_label(ctx.services, r["actor_person_id"]), "action": r["action"],
                "target": r["target"] or "",
                "detail": " ".join(f"{k}={v}" for k, v in json.loads(r["detail"] or "{}").items())} for r in rows]
    return {"entries": entries, "actions": await ctx.store.console.audit_actions(),
            "filters": {"action": action, "target": target, "since": since, "person": actor_key}}
