"""The cases page and a case's page: the open cases with their ages, and everything about one case."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import parse_iso
from bot.context import Context
from handlers import report_escalation as esc
from handlers import report_review
from handlers.report_office import find_case

STATUSES = ("open", "received", "acknowledged", "in_progress", "resolved")


@dataclass
class CaseFilters:
    """What the cases page is narrowed to; bad values become no filter."""

    status: str = "open"
    fraud_type: str = ""
    college: str = ""
    min_amount: int | None = None
    review: bool = False

    @classmethod
    def from_query(cls, query, types) -> CaseFilters:
        """Read the filters from the page's query string."""
        status = query.get("status", "open")
        amount = query.get("min_amount", "").strip()
        return cls(status=status if status in STATUSES else "open",
                   fraud_type=query.get("type", "") if query.get("type", "") in types else "",
                   college=query.get("college", "")[:60],
                   min_amount=int(amount) if amount.isdigit() and len(amount) < 10 else None,
                   review=query.get("review") == "1")


def age(ctx: Context, stored: str | None) -> str:
    """How long ago, as '2d 3h', '3h 5m' or '4m'."""
    if not stored:
        return "-"
    minutes = max(0, int((ctx.clock.now() - parse_iso(stored)).total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return ctx.t("console.age_days", d=days, h=hours)
    if hours:
        return ctx.t("console.age_hours", h=hours, m=mins)
    return ctx.t("console.age_minutes", m=mins)


async def case_list(ctx: Context, filters: CaseFilters) -> dict:
    """The rows of the cases page (urgent open ones first), the total matched, and the filter choices."""
    rows, total = await ctx.store.console.cases(filters.status, filters.fraud_type, filters.college,
                                                filters.min_amount, filters.review)
    cases = [{
        "case_no": row["case_no"], "urgent": bool(row["urgent"]), "status": row["status"],
        "status_label": ctx.t("report.status." + row["status"]),
        "type": esc.type_name(ctx.services, row["fraud_type"], ctx.lang),
        "amount": "-" if row["amount_yuan"] is None else f"{row['amount_yuan']:,}",
        "college": row["college"] or "-", "review": bool(row["flagged_review"]) and not row["reviewed"],
        "age": age(ctx, row["submitted_at"] or row["created_at"]),
        "since_escalation": age(ctx, row["last_escalated_at"]) if row["last_escalated_at"] else "-",
        "escalations": row["escalation_count"],
    } for row in rows]
    return {"cases": cases, "total": total, "filters": filters,
            "types": [(tid, t.name.get(ctx.lang)) for tid, t in ctx.library.types.items()],
            "colleges": await ctx.store.classes.colleges(), "statuses": STATUSES}


async def case_page(ctx: Context, case_no: str) -> dict | None:
    """Everything about one case for the office (audited like /casefile), or None when there is none."""
    report = await find_case(ctx, case_no)
    if report is None or report["status"] == "draft":
        return None
    await ctx.audit("report.view", report["case_no"], via="console")
    services, lang = ctx.services, ctx.lang
    klass = await ctx.store.classes.get(report["class_id"]) if report["class_id"] else None
    identifiers = await ctx.store.reports.identifiers(report["id"])
    others = await ctx.store.console.cases_naming([i.normalized for i in identifiers], report["id"])
    events = []
    for event in await ctx.store.reports.events(report["id"]):
        events.append({"at": esc.local_time(services, event.at),
                       "action": esc.choice_label(services, "event", event.action, lang),
                       "who": await esc.person_label(services, event.actor_person_id)
                       if event.actor_person_id else "", "note": event.note or ""})
    officers = [(pid, await esc.person_label(services, pid))
                for pid in await ctx.store.reports.office_people(ctx.config.roles.security)]
    amount = report["amount_yuan"]
    review = await ctx.store.reports.review(report["id"]) if report["flagged_review"] else None
    fields = [
        ("console.field_status", ctx.t("report.status." + report["status"])),
        ("console.field_type", esc.type_name(services, report["fraud_type"], lang)),
        ("console.field_amount", "-" if amount is None else f"{amount:,}"),
        ("console.field_money_left", {None: "-", 0: ctx.t("common.no"), 1: ctx.t("common.yes")}.get(
            report["money_left"], "-")),
        ("console.field_college", report["college"] or "-"),
        ("console.field_class", ctx.t("report.anonymous_word") if report["anonymous"] else (klass.name if klass else "-")),
        ("console.field_reporter", ctx.t("report.anonymous_word") if report["anonymous"]
         else await esc.person_label(services, report["reporter_person_id"])),
        ("console.field_happened", report["happened_at"] or "-"),
        ("console.field_reported", esc.local_time(services, report["created_at"])),
        ("console.field_contact", esc.choice_label(services, "contact", report["contact_method"], lang)),
        ("console.field_payment", esc.choice_label(services, "pay", report["payment_method"], lang)),
        ("console.field_assigned", await esc.person_label(services, report["assigned_to"])),
        ("console.field_review", ctx.t("common.yes") if report["flagged_review"] else ctx.t("common.no")),
        ("console.field_resolution", report["resolution_note"] or "-"),
        ("console.field_office_message", report["office_message"] or "-"),
    ]
    return {
        "case_no": report["case_no"], "status": report["status"], "urgent": bool(report["urgent"]),
        "fields": fields, "description": report["description"] or "",
        "identifiers": [{"kind": ctx.t("report.kind." + i.kind), "raw": i.raw, "normalized": i.normalized,
                         "others": others.get(i.normalized, [])} for i in identifiers],
        "evidence": [{"id": e.id, "filename": e.filename, "photo": e.kind == "photo",
                      "kb": max(1, e.size // 1024)} for e in await ctx.store.reports.evidence(report["id"])],
        "events": events, "officers": officers, "can_reply": report["reporter_person_id"] is not None,
        "review_open": bool(report["flagged_review"]) and review is None,
        "review": None if review is None else {
            "reviewer": await esc.person_label(services, review.reviewer_id),
            "at": esc.local_time(services, review.created_at),
            "steps": [(f"console.review_{step}", getattr(review, step)) for step in report_review.STEPS]},
        "today": ctx.today(),
    }


async def evidence_file(ctx: Context, evidence_id: int):
    """(bytes, filename, is photo) of one evidence file (audited), or None."""
    row = await ctx.store.console.evidence_item(evidence_id)
    if row is None:
        return None
    path = ctx.config.evidence_path / row["path"]
    if not path.is_file():
        return None
    await ctx.audit("report.evidence", row["case_no"], file=row["filename"], via="console")
    return path.read_bytes(), row["filename"], row["kind"] == "photo"
