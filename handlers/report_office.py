"""The security office's side of reports: acknowledge, assign, resolve, reply, tell the class, /reports, /casefile.

Actions come as card buttons (rep:ack:<case_no>, ...) or as text commands typed in any chat, the console
included: 受理 R-… / ack R-…, assign R-… <number> / 指派 R-… <number>, resolve R-… note / 结案 R-… 备注,
reply R-… message / 回复 R-… 内容, view R-… / 查看 R-…, review R-… / 倒查 R-… (handlers/report_review.py). Each is recorded in report_events with who and when, the card is sent
again with the same ref, and the reporter is told. Every read of a report is written to the audit log.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.roles import effective_role
from handlers import report_escalation as esc
from handlers import report_review
from handlers.report_buttons import ACK, ASSIGN, CARE, RESOLVE_CASE, SEND_WARNING

COMMAND_PATTERN = re.compile(
    r"^\s*(受理|ack|指派|分派|assign|结案|resolve|回复|reply|查看|view|倒查|review)\s+(R-\d{4}-\d{1,6})\b\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
VERBS = {"受理": "ack", "ack": "ack", "指派": "assign", "分派": "assign", "assign": "assign",
         "结案": "resolve", "resolve": "resolve", "回复": "reply", "reply": "reply", "查看": "view", "view": "view",
         "倒查": "review", "review": "review"}
MAX_NOTE = 1000
RESOLVE = "officeresolve"     # the office's own conversation: the closing note after pressing 'resolve'
RESOLVE_PREFIX = RESOLVE_CASE.prefix
MAX_ATTACHMENTS = 10        # evidence files sent with /casefile; the rest are listed


def refusal(ctx: Context, key: str, **values) -> Outgoing:
    """A short refusal (a pop-up for a pressed button)."""
    message = text(ctx.t(key, **values))
    message.alert = True
    return message


async def find_case(ctx: Context, case_no: str):
    """The case with that number (normalised), or None."""
    case_no = case_no.strip().upper()
    match = re.fullmatch(r"R-(\d{4})-(\d{1,6})", case_no)
    if match:
        case_no = f"R-{match.group(1)}-{int(match.group(2)):06d}"
    return await ctx.store.reports.by_case_no(case_no)


# --- text commands -------------------------------------------------------------------------------
async def run_text_command(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """`受理 R-…`, `assign R-… 2023001`, `结案 R-… 备注`, `reply R-… text`, typed in any chat."""
    match = COMMAND_PATTERN.match(msg.payload)
    if match is None:
        return [text(ctx.t("report.office_usage"))]
    verb, case_no, rest = VERBS[match.group(1).lower()], match.group(2), match.group(3).strip()
    report = await find_case(ctx, case_no)
    if report is None:
        return [text(ctx.t("report.no_case", case_no=case_no.upper()))]
    if verb == "view":
        return await case_details(ctx, report)
    if verb == "review":
        return await report_review.start_review(ctx, report)
    if verb == "ack":
        return await acknowledge(ctx, report)
    if verb == "assign":
        if not rest:
            return await offer_assignees(ctx, report)
        return await assign_to_key(ctx, report, rest.split()[0])
    if verb == "resolve":
        return await resolve(ctx, report, rest[:MAX_NOTE])
    if not rest:
        return [text(ctx.t("report.reply_usage", case_no=report["case_no"]))]
    return await reply_to_reporter(ctx, report, rest[:MAX_NOTE])


# --- buttons -----------------------------------------------------------------------------------------
async def press_ack(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rep:ack:<case_no>."""
    case_no = (ACK.unpack(msg.payload) or {}).get("case_no", "")
    report = await find_case(ctx, case_no)
    if report is None:
        return [refusal(ctx, "report.no_case", case_no=case_no or "-")]
    return await acknowledge(ctx, report)


async def press_assign(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rep:assign:<case_no> lists officers; rep:assign:<case_no>:<person id> assigns."""
    data = ASSIGN.unpack(msg.payload) or {}
    case_no = data.get("case_no", "")
    report = await find_case(ctx, case_no)
    if report is None:
        return [refusal(ctx, "report.no_case", case_no=case_no or "-")]
    if "person" in data:
        return await assign_to_key(ctx, report, f"#{data['person']}")
    return await offer_assignees(ctx, report)


async def press_resolve(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rep:resolve:<case_no> asks for the note; rep:resolve:<case_no>:nonote closes without one."""
    data = RESOLVE_CASE.unpack(msg.payload) or {}
    case_no = data.get("case_no", "")
    report = await find_case(ctx, case_no)
    if report is None:
        return [refusal(ctx, "report.no_case", case_no=case_no or "-")]
    if data.get("how") == "nonote":
        if ctx.in_conversation(RESOLVE):
            ctx.end()
        return await resolve(ctx, report, "")
    if report["status"] == "resolved":
        return [text(ctx.t("report.already_resolved", case_no=report["case_no"]))]
    ctx.begin(RESOLVE, "note", case_no=report["case_no"])
    return _ask_note(ctx, report["case_no"])


def _ask_note(ctx: Context, case_no: str) -> list[Outgoing]:
    return [text(ctx.t("report.ask_resolve_note", case_no=case_no),
                 [Button(ctx.t("report.btn_no_note"), RESOLVE_CASE.pack(case_no, "nonote"))])]


async def show_note_question(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The closing-note question again, naming its case (so a note never lands on another case)."""
    return _ask_note(ctx, ctx.state.data.get("case_no", ""))


async def take_resolve_note(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The note typed after pressing 'resolve'."""
    case_no = ctx.state.data.get("case_no", "")
    ctx.end()
    if ctx.role != "security":
        return [refusal(ctx, "error.not_allowed")]
    report = await find_case(ctx, case_no)
    if report is None or msg.media is not None:
        return [text(ctx.t("report.no_case", case_no=case_no))]
    return await resolve(ctx, report, msg.payload.strip()[:MAX_NOTE])


async def press_care(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rep:care:<case_no>: tell the class's monitors and counsellors, without details, that someone needs care."""
    report = await find_case(ctx, (CARE.unpack(msg.payload) or {}).get("case_no", ""))
    if report is None or not report["class_id"] or report["anonymous"]:
        return [refusal(ctx, "report.care_impossible")]
    carers = await ctx.store.reports.class_carers(report["class_id"])
    klass = await ctx.store.classes.get(report["class_id"])
    told = 0
    for person_id in carers:
        def message(account, klass_name=klass.name if klass else "-") -> Outgoing:
            lang = account.language or ctx.config.general.default_language
            return Outgoing(text=ctx.services.translate("report.care_notice", lang, klass=klass_name))
        told += await ctx.outbox.push_to_person(person_id, "report-care-notice", message,
                                                dedupe_key=f"report:{report['case_no']}:carer:{person_id}")
    await ctx.store.reports.add_event(report["id"], "care_notified", _actor(ctx), note=f"{told} told")
    await ctx.audit("report.care_notice", report["case_no"], told=told)
    return [text(ctx.t("report.care_done", n=told, case_no=report["case_no"]))]


async def press_warn(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rep:warn:<alert id>: send the drafted campaign warning to the affected colleges."""
    data = SEND_WARNING.unpack(msg.payload)
    if data is None:
        return [refusal(ctx, "error.stale_button")]
    alert_id = str(data["alert"])
    sent = await esc.send_campaign_warning(ctx.services, int(alert_id), _actor(ctx))
    if sent is None:
        return [refusal(ctx, "report.warning_already")]
    await ctx.audit("report.campaign_warning", f"alert:{alert_id}", people=sent)
    return [text(ctx.t("report.warning_sent", n=sent))]


# --- the actions ------------------------------------------------------------------------------------
def _actor(ctx: Context) -> int | None:
    return ctx.person.id if ctx.person else None


async def acknowledge(ctx: Context, report) -> list[Outgoing]:
    """Take the case: stops re-escalation, tells the reporter."""
    if report["status"] != "received":
        who = await esc.person_label(ctx.services, report["acknowledged_by"])
        return [text(ctx.t("report.already_acked", case_no=report["case_no"], person=who))]
    await ctx.store.reports.acknowledge(report["id"], _actor(ctx))
    event_id = await ctx.store.reports.add_event(report["id"], "acknowledged", _actor(ctx))
    await after_action(ctx, report["id"], "report.card_acked_by", "report.status_push_acked", f"status:{event_id}")
    return [text(ctx.t("report.acked", case_no=report["case_no"]))]


async def offer_assignees(ctx: Context, report) -> list[Outgoing]:
    """Buttons for every security officer."""
    officers = await ctx.store.reports.office_people(ctx.config.roles.security)
    buttons = [Button(await esc.person_label(ctx.services, pid), ASSIGN.pack(report["case_no"], pid))
               for pid in officers[:12]]
    if not buttons:
        return [text(ctx.t("report.no_officers"))]
    return [text(ctx.t("report.ask_assignee", case_no=report["case_no"]),
                 *[buttons[i:i + 3] for i in range(0, len(buttons), 3)])]


async def assign_to_key(ctx: Context, report, key: str) -> list[Outgoing]:
    """Assign to the security officer with that number (or #id)."""
    person = await ctx.store.people.resolve(key.lstrip("@"))
    if person is None or person.forgotten_at or effective_role(person, ctx.config) != "security":
        # The old example number could itself be a student's: show the real officers to pick from instead.
        return [text(ctx.t("report.not_officer", who=key[:30])), *await offer_assignees(ctx, report)]
    if report["status"] == "resolved":
        return [text(ctx.t("report.already_resolved", case_no=report["case_no"]))]
    await ctx.store.reports.assign(report["id"], person.id, _actor(ctx))
    label = await esc.person_label(ctx.services, person.id)
    event_id = await ctx.store.reports.add_event(report["id"], "assigned", _actor(ctx), note=label)
    await after_action(ctx, report["id"], "report.card_assigned_by", "report.status_push_progress",
                       f"status:{event_id}")
    case_no = report["case_no"]

    def message(account) -> Outgoing:
        lang = account.language or ctx.config.general.default_language
        return Outgoing(text=ctx.services.translate("report.assigned_to_you", lang, case_no=case_no),
                        buttons=[[Button(ctx.services.translate("report.btn_details", lang), f"/casefile {case_no}")]])

    await ctx.outbox.push_to_person(person.id, "report-assigned", message, dedupe_key=f"report:{case_no}:assign:{event_id}")
    return [text(ctx.t("report.assigned", case_no=case_no, person=label))]


async def resolve(ctx: Context, report, note: str) -> list[Outgoing]:
    """Close the case with a note (kept for the office; not sent to the reporter)."""
    if report["status"] == "resolved":
        return [text(ctx.t("report.already_resolved", case_no=report["case_no"]))]
    if report["flagged_review"] and await ctx.store.reports.review(report["id"]) is None:
        return [text(ctx.t("review.required", case_no=report["case_no"],
                           threshold=f"{ctx.config.reports.review_threshold_yuan:,}"),
                     [report_review.review_button(ctx, report["case_no"])])]
    await ctx.store.reports.resolve(report["id"], _actor(ctx), note)
    event_id = await ctx.store.reports.add_event(report["id"], "resolved", _actor(ctx), note=note or None)
    await after_action(ctx, report["id"], "report.card_resolved_by", "report.status_push_resolved",
                       f"status:{event_id}")
    return [text(ctx.t("report.resolved", case_no=report["case_no"]))]


async def reply_to_reporter(ctx: Context, report, message: str) -> list[Outgoing]:
    """A message from the office to the reporter: pushed now and shown in /myreports."""
    if report["reporter_person_id"] is None:
        return [text(ctx.t("report.reply_anonymous", case_no=report["case_no"]))]
    await ctx.store.reports.set_office_message(report["id"], message)
    event_id = await ctx.store.reports.add_event(report["id"], "replied", _actor(ctx), note=message)
    await esc.notify_reporter(ctx.services, report, "report.status_push_message", f"reply:{event_id}",
                              message=message)
    return [text(ctx.t("report.replied", case_no=report["case_no"]))]


async def after_action(ctx: Context, report_id: int, card_key: str, push_key: str, dedupe: str) -> None:
    """Re-send the card (same ref) saying who did what, and tell the reporter about the new status."""
    lang = esc.office_lang(ctx.services)
    who = await esc.person_label(ctx.services, _actor(ctx))
    when = ctx.clock.now().astimezone(ctx.config.tz).strftime("%H:%M")
    await esc.send_card(ctx.services, report_id, ctx.services.translate(card_key, lang, person=who, time=when))
    report = await ctx.store.reports.get(report_id)
    await esc.notify_reporter(ctx.services, report, push_key, dedupe)


# --- reading -------------------------------------------------------------------------------------------
async def list_open_reports(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/reports: the open cases, urgent first."""
    rows = await ctx.store.reports.open_cases()
    await ctx.audit("report.list", "open", count=len(rows))
    if not rows:
        return [text(ctx.t("report.open_none"))]
    lines = [ctx.t("report.open_title", n=len(rows))]
    for row in rows:
        lines.append(ctx.t(
            "report.open_line", case_no=row["case_no"], urgent="🚨" if row["urgent"] else "·",
            type=ctx.library.type(row["fraud_type"]).name.get(ctx.lang),
            status=ctx.t("report.status." + row["status"]),
            amount="-" if row["amount_yuan"] is None else f"{row['amount_yuan']:,}",
            date=esc.local_time(ctx.services, row["created_at"])))
    lines.append(ctx.t("report.open_hint"))
    return [text("\n".join(lines))]


async def show_case(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/casefile R-… (or '查看 R-…'): everything about one case, for the security office only (audited)."""
    case_no = msg.payload.strip().split()[0] if msg.payload.strip() else ""
    if not case_no:
        return [text(ctx.t("report.case_usage"))]
    report = await find_case(ctx, case_no)
    if report is None:
        return [text(ctx.t("report.no_case", case_no=case_no[:20]))]
    return await case_details(ctx, report)


async def case_details(ctx: Context, report) -> list[Outgoing]:
    """The card plus reporter, description, evidence and timeline (audited)."""
    await ctx.audit("report.view", report["case_no"])
    card = await esc.card_message(ctx.services, report, lang=ctx.lang)
    t = ctx.t
    reporter = t("report.anonymous_word") if report["anonymous"] else await esc.person_label(
        ctx.services, report["reporter_person_id"])
    evidence = await ctx.store.reports.evidence(report["id"])
    events = await ctx.store.reports.events(report["id"])
    timeline = []
    for event in events:
        who = await esc.person_label(ctx.services, event.actor_person_id) if event.actor_person_id else ""
        action = esc.choice_label(ctx.services, "event", event.action, ctx.lang)
        timeline.append(f"  {esc.local_time(ctx.services, event.at)} {action} {who}"
                        + (f" — {event.note}" if event.note else ""))
    extra = [
        "",
        t("report.case_reporter", person=reporter),
        t("report.case_description", text=report["description"] or "-"),
        t("report.case_evidence_files", files=", ".join(
            f"{e.filename} ({e.size // 1024} KB, sha256 {e.sha256[:12]}…)" for e in evidence) or "-"),
        t("report.case_office_message", text=report["office_message"] or "-"),
        t("report.case_timeline"),
        *timeline,
    ]
    card.text = card.text + "\n" + "\n".join(extra)
    card.ref = ""
    card.urgent = False
    return [card, *evidence_attachments(ctx, evidence)]


def evidence_attachments(ctx: Context, evidence) -> list[Outgoing]:
    """The evidence files themselves, for the officer who opened the case (photos as pictures)."""
    attachments = []
    for item in evidence[:MAX_ATTACHMENTS]:
        path = ctx.config.evidence_path / item.path
        if not path.is_file():
            attachments.append(text(ctx.t("report.case_evidence_missing", name=item.filename)))
            continue
        data = path.read_bytes()
        if item.kind == "photo":
            attachments.append(Outgoing(image=data, filename=item.filename))
        else:
            attachments.append(Outgoing(file=data, filename=item.filename))
    return attachments


FLOW = Conversation(RESOLVE, {"note": take_resolve_note}, show_note_question, buttons=(RESOLVE_PREFIX,))
