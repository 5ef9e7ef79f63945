"""The warnings page: /warn's own steps run in one go — content, audience, the count and preview, publish."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from bot.context import Context
from bot.events import Incoming, Kind, Outgoing
from bot.i18n import LANGUAGES
from handlers import office_warn
from handlers import report_escalation as esc
from storage.records import Account

RECENT = timedelta(days=30)


def _msg(kind: Kind, payload: str) -> Incoming:
    return Incoming("console", "", "", kind, payload, command="warn" if kind == Kind.COMMAND else None)


async def _to_confirmation(ctx: Context, content: str, audience: str) -> list[Outgoing]:
    """Walk /warn up to its confirmation step; the replies of the last step."""
    replies = await office_warn.start_warn(_msg(Kind.COMMAND, content), ctx)
    if not ctx.in_conversation(office_warn.CONVERSATION) or ctx.state.step != "audience":
        return replies
    if audience in office_warn.AUDIENCE_TAGS:
        return await office_warn.press_warn(_msg(Kind.BUTTON, f"{office_warn.PREFIX}aud:{audience}"), ctx)
    return await office_warn.continue_warn(_msg(Kind.TEXT, audience), ctx)


async def preview(ctx: Context, content: str, audience: str) -> dict:
    """The audience's size and reach and the message in zh and en, or /warn's own refusal."""
    replies = await _to_confirmation(ctx, content.strip(), audience.strip())
    if not ctx.in_conversation(office_warn.CONVERSATION) or ctx.state.step != "confirm":
        return {"problem": "\n".join(r.text for r in replies)}
    data = dict(ctx.state.data)
    build = office_warn._message(ctx, data)      # the very message each recipient gets, per language
    shown = {lang: build(Account(0, "console", "", "", None, lang)).text for lang in LANGUAGES}
    return {"problem": "", "size": data["size"], "reachable": data["reachable"], "label": data["label"],
            "preview": shown, "confirm": replies[0].text}


async def publish(ctx: Context, content: str, audience: str) -> tuple[str, int | None]:
    """Publish as /warn does (audited there); its answer and the warning's id."""
    await _to_confirmation(ctx, content.strip(), audience.strip())
    if not ctx.in_conversation(office_warn.CONVERSATION) or ctx.state.step != "confirm":
        return ctx.t("warn.bad_content"), None
    replies = await office_warn.press_warn(_msg(Kind.BUTTON, f"{office_warn.PREFIX}send"), ctx)
    status = next((b.data for r in replies for b in r.flat_buttons()), "")
    warning_id = status.rsplit(":", 1)[1] if status.startswith(f"{office_warn.PREFIX}status:") else ""
    return replies[0].text, int(warning_id) if warning_id.isdigit() else None


async def warnings_page(ctx: Context, warning_id: str) -> dict:
    """The choices (library cases, audiences) and one warning's delivery figures, /warn's refresh."""
    progress = ""
    if warning_id.isdigit():
        replies = await office_warn.press_warn(_msg(Kind.BUTTON, f"{office_warn.PREFIX}status:{warning_id}"), ctx)
        progress = replies[0].text
    cases = [(case.id, case.text(ctx.lang).title) for case in ctx.library.all_cases()]
    now = ctx.clock.now()
    recent = await ctx.store.office.warnings_between(iso(now - RECENT), iso(now + timedelta(seconds=1)))
    tags = [(tag, ctx.t(f"warn.aud_{tag}")) for tag in office_warn.AUDIENCE_TAGS]
    return {"cases": cases, "tags": tags, "colleges": await ctx.store.classes.colleges(), "progress": progress,
            "recent": [{"id": w["id"], "audience": w["audience"], "queued": w["queued"],
                        "at": esc.local_time(ctx.services, w["created_at"])} for w in reversed(recent)]}
