"""Reports reach the security office: cards, re-escalation, flags, campaign alerts and pushes to the reporter.

Everything here works on the services (no chat context), so the periodic job, the start-up sweep and the
handlers share it. Every push goes through the outbox with a dedupe key.

Escalation chain for a case nobody acknowledged (status still 'received'); every step pages only people
who can acknowledge (the security role, by roster or config roles.security) and merely informs the rest:
  1. the card is posted to the security channel when the case exists (urgent: before the form is done);
  2. after reports.urgent_ack_minutes (non-urgent: normal_ack_hours) the card is posted again and every
     duty officer (reports.duty_officers) gets a direct message; again every reescalate_minutes
     (non-urgent: normal_ack_hours), reescalate_limit times in all;
  3. then every security officer is paged (admins without the security role are told once, without
     action text), and paged again every escalation.repeat_minutes (non-urgent: normal_ack_hours) until
     the case has waited escalation.repeat_hours, or someone acknowledges it.
Times are kept on whole minutes, so the every-minute job meets a 1-minute interval exactly.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta

from bot.clock import iso, parse_iso
from bot.events import Button, Outgoing
from handlers.report_buttons import ACK, ASSIGN, CARE, RESOLVE_CASE, SEND_WARNING
from storage.outbox import OutboxRow

log = logging.getLogger(__name__)

CARE_DAYS = (1, 3, 7)
CARD_CAMPAIGN = "report-card"
IDENTIFIERS_ON_CARD = 8


def office_lang(services) -> str:
    """The language of the security channel."""
    return services.config.general.default_language


def type_name(services, type_id: str, lang: str) -> str:
    """A fraud type's name in lang."""
    return services.library.type(type_id).name.get(lang)


def local_time(services, stored: str | None) -> str:
    """A stored UTC time as local 'YYYY-MM-DD HH:MM'."""
    if not stored:
        return "-"
    return parse_iso(stored).astimezone(services.config.tz).strftime("%Y-%m-%d %H:%M")


async def person_label(services, person_id: int | None) -> str:
    """How the office names one of its people: name and number."""
    if person_id is None:
        return "-"
    person = await services.store.people.get(person_id)
    if person is None:
        return f"#{person_id}"
    return f"{person.name or ''} {person.person_no or '#' + str(person.id)}".strip()


async def card_message(services, report, header: str = "", lang: str | None = None) -> Outgoing:
    """The security-channel card of a case, with its action buttons."""
    lang = lang or office_lang(services)
    t = services.translate
    store = services.store
    case_no = report["case_no"]
    klass = await store.classes.get(report["class_id"]) if report["class_id"] else None
    identifiers = await store.reports.identifiers(report["id"])
    shown = [f"{i.normalized} ({t('report.kind.' + i.kind, lang)})" for i in identifiers[:IDENTIFIERS_ON_CARD]]
    if len(identifiers) > IDENTIFIERS_ON_CARD:
        shown.append(t("report.card_more", lang, n=len(identifiers) - IDENTIFIERS_ON_CARD))
    amount = report["amount_yuan"]
    lines = [header] if header else []
    lines += [
        t("report.card_title_urgent" if report["urgent"] else "report.card_title", lang, case_no=case_no,
          status=t("report.status." + report["status"], lang)),
        t("report.card_type", lang, type=type_name(services, report["fraud_type"], lang)),
        t("report.card_amount", lang, amount=_amount_text(t, lang, amount, report["money_left"])
          + (f"（{report['amount_original']} {report['amount_currency']}）" if report["amount_currency"] else ""))
        + (" " + t("report.card_flag_review", lang) if report["flagged_review"] else ""),
        t("report.card_where", lang, college=report["college"] or "-",
          klass=t("report.anonymous_word", lang) if report["anonymous"] else (klass.name if klass else "-")),
        t("report.card_time", lang, happened=happened_text(services, report),
          reported=local_time(services, report["created_at"])),
        t("report.card_contact", lang,
          contact=choice_label(services, "contact", report["contact_method"], lang),
          payment=choice_label(services, "pay", report["payment_method"], lang)),
        t("report.card_ids", lang, ids="; ".join(shown) or t("report.none", lang)),
        t("report.card_evidence", lang, n=await store.reports.evidence_count(report["id"])),
        t("report.card_form_done" if report["form_complete"] else "report.card_form_open", lang),
    ]
    if report["unverified"]:
        lines.append(t("report.card_unverified", lang, phone=report["callback_phone"] or "-"))
    if report["assigned_to"]:
        lines.append(t("report.card_assigned", lang, person=await person_label(services, report["assigned_to"])))
    if report["status"] == "resolved":
        lines.append(t("report.card_resolved", lang, note=report["resolution_note"] or "-"))
    else:
        lines.append(t("report.card_commands", lang, case_no=case_no))
    buttons: list[list[Button]] = []
    if report["status"] != "resolved":
        actions = [Button(t("report.btn_ack", lang), ACK.pack(case_no))] if report["status"] == "received" else []
        actions += [Button(t("report.btn_assign", lang), ASSIGN.pack(case_no)),
                    Button(t("report.btn_resolve", lang), RESOLVE_CASE.pack(case_no))]
        if report["flagged_review"]:
            actions.append(Button(t("review.btn_start", lang), f"rev:start:{case_no}"))
        buttons.append(actions)
    row = [Button(t("report.btn_details", lang), f"/casefile {case_no}")]
    if report["class_id"] and not report["anonymous"]:
        row.append(Button(t("report.btn_care", lang), CARE.pack(case_no)))
    buttons.append(row)
    return Outgoing(text="\n".join(lines), buttons=buttons, urgent=bool(report["urgent"]), ref=f"card:{case_no}")


def happened_text(services, report) -> str:
    """When it happened as typed, with the moment it was read as: '昨天晚上8点（2026-11-22 20:00）'."""
    typed = report["happened_at"] or "-"
    if not report["happened_ts"]:
        return typed
    shape = "%Y-%m-%d" if report["happened_precision"] == "day" else "%Y-%m-%d %H:%M"
    read = parse_iso(report["happened_ts"]).astimezone(services.config.tz).strftime(shape)
    return typed if read == typed else f"{typed}（{read}）"


def _amount_text(t, lang: str, amount: int | None, money_left: int | None) -> str:
    """The loss on a card: the amount, "none" when nothing left, "unknown" when not said yet."""
    if amount is not None:
        return f"{amount:,}"
    return t("report.card_no_loss", lang) if money_left == 0 else t("report.unknown", lang)


def choice_label(services, group: str, value: str | None, lang: str) -> str:
    """The label of a stored button choice, or the reporter's own words."""
    if not value:
        return "-"
    key = f"report.{group}.{value}"
    return services.translate(key, lang) if services.translate.has(key) else value


async def send_card(services, report_id: int, header: str = "", repost: bool = False) -> None:
    """Post (or re-post) the case's card; the same ref lets platforms that can edit replace the old one.

    repost (a reminder): a new post that notifies, with the old card brought up to date as well.
    """
    report = await services.store.reports.get(report_id)
    version = await services.store.reports.next_card_version(report_id)
    message = await card_message(services, report, header)
    message.repost = repost
    await services.outbox.push_to_security(CARD_CAMPAIGN, message, f"report:{report['case_no']}:card:{version}")


def ack_window(services, report) -> timedelta:
    """How long a case may wait for acknowledgement before the next rung of the ladder."""
    cfg = services.config.reports
    return timedelta(minutes=cfg.urgent_ack_minutes) if report["urgent"] else timedelta(hours=cfg.normal_ack_hours)


async def escalate(services, report_id: int) -> None:
    """First escalation of a case: card out, timer set, flags raised (safe to call twice)."""
    store = services.store
    report = await store.reports.get(report_id)
    if report is None or report["status"] == "draft":
        return
    first = report["escalated_at"] is None
    await send_card(services, report_id)
    if first:
        next_at = (on_the_minute(services.clock.now() + ack_window(services, report))
                   if report["status"] == "received" else None)
        await store.reports.mark_escalated(report_id, next_at)
        await store.reports.add_event(report_id, "escalated")
    await raise_flags(services, report_id)


async def raise_flags(services, report_id: int) -> None:
    """A campaign alert for identifiers others reported too, and care follow-ups for a loss."""
    store = services.store
    report = await store.reports.get(report_id)
    if report["status"] == "draft":
        return
    await check_campaigns(services, report_id)
    await schedule_care(services, report)


async def run_escalations(services) -> int:
    """The periodic job: escalate cases never escalated, re-escalate unacknowledged ones; return actions."""
    done = await sweep_unescalated(services)
    for report in await services.store.reports.due_for_reescalation():
        await reescalate(services, report)
        done += 1
    return done


async def sweep_unescalated(services) -> int:
    """Escalate every case whose card never went out (the process stopped between submit and escalation)."""
    done = 0
    for report in await services.store.reports.unescalated():
        log.warning("case %s had no card yet (stopped before escalation?); escalating now", report["case_no"])
        await escalate(services, report["id"])
        done += 1
    return done


def on_the_minute(moment: datetime) -> datetime:
    """A moment rounded to the nearest whole minute (the job runs each minute, a few ms either side)."""
    rounded = moment.replace(second=0, microsecond=0)
    return rounded + timedelta(minutes=1) if moment.second >= 30 else rounded


async def reescalate(services, report) -> None:
    """One step of the chain for an unacknowledged case."""
    cfg = services.config.reports
    store = services.store
    lang = office_lang(services)
    now = services.clock.now()
    count = report["escalation_count"] + 1
    first = parse_iso(report["escalated_at"])
    waited = round((now - first).total_seconds() / 60)
    officers = await security_officers(services)
    if count <= cfg.reescalate_limit:
        header = services.translate("report.card_reescalated", lang, minutes=waited, n=count,
                                    limit=cfg.reescalate_limit)
        await send_card(services, report["id"], header, repost=True)
        for person_id in await duty_officers(services):
            if person_id in officers:
                await _page(services, person_id, report, f"duty:{count}", waited)
            else:
                await _inform(services, person_id, report, f"duty:{count}", waited)
        step = timedelta(minutes=cfg.reescalate_minutes) if report["urgent"] else timedelta(hours=cfg.normal_ack_hours)
        await store.reports.mark_escalated(report["id"], on_the_minute(now + step), count)
        await store.reports.add_event(report["id"], "reescalated", note=f"{count}/{cfg.reescalate_limit}")
        return
    for person_id in officers:
        await _page(services, person_id, report, f"chain:{count}", waited)
    if count == cfg.reescalate_limit + 1:
        bystanders = [p for p in await _admins(services) if p not in officers]
        for person_id in bystanders:
            await _inform(services, person_id, report, "fallback", waited)
        await store.reports.add_event(report["id"], "fallback", note=f"{len(officers)} people paged")
    else:
        await store.reports.add_event(report["id"], "repaged", note=f"{len(officers)} people paged")
    chain = services.config.escalation
    step = timedelta(minutes=chain.repeat_minutes) if report["urgent"] else timedelta(hours=cfg.normal_ack_hours)
    next_at = on_the_minute(now + step)
    if next_at - first > timedelta(hours=chain.repeat_hours):
        next_at = None
        await store.reports.add_event(report["id"], "chain_ended", note=f"{chain.repeat_hours}h")
    await store.reports.mark_escalated(report["id"], next_at, count)


async def security_officers(services) -> list[int]:
    """Everyone who may acknowledge a case: the security role by roster or by config roles.security."""
    return sorted(await services.store.reports.office_people(services.config.roles.security))


async def duty_officers(services) -> list[int]:
    """The person ids of the configured duty officers (numbers or #ids; unknown ones are skipped)."""
    found = []
    for key in services.config.reports.duty_officers:
        person = await services.store.people.resolve(str(key))
        if person is None:
            log.warning("reports.duty_officers: no person %r", key)
        elif person.id not in found:
            found.append(person.id)
    return found


async def _admins(services) -> list[int]:
    found = []
    for key in services.config.roles.admin:
        person = await services.store.people.resolve(str(key))
        if person is not None:
            found.append(person.id)
    return sorted(set(found) | set(await services.store.people.ids_with_role("admin")))


async def _inform(services, person_id: int, report, rung: str, waited: int) -> None:
    """Tell someone who cannot acknowledge that a case waits: no action asked of them, no buttons."""
    case_no = report["case_no"]

    def message(account) -> Outgoing:
        lang = account.language or office_lang(services)
        return Outgoing(text=services.translate(
            "report.page_inform", lang, case_no=case_no, minutes=waited,
            urgency=services.translate("report.urgent_word" if report["urgent"] else "report.normal_word", lang)))

    await services.outbox.push_to_person(person_id, "report-inform", message,
                                         dedupe_key=f"report:{case_no}:{rung}:inform:{person_id}")


async def _page(services, person_id: int, report, rung: str, waited: int) -> None:
    """A direct, urgent message to one officer about a case that waits."""
    case_no = report["case_no"]

    def message(account) -> Outgoing:
        lang = account.language or office_lang(services)
        body = services.translate("report.page", lang, case_no=case_no, minutes=waited,
                                  urgency=services.translate("report.urgent_word" if report["urgent"]
                                                             else "report.normal_word", lang))
        return Outgoing(text=body, buttons=[[Button(services.translate("report.btn_ack", lang), ACK.pack(case_no)),
                                             Button(services.translate("report.btn_details", lang),
                                                    f"/casefile {case_no}")]], urgent=True)

    await services.outbox.push_to_person(person_id, "report-page", message,
                                         dedupe_key=f"report:{case_no}:{rung}:{person_id}")


# --- the reporter ------------------------------------------------------------------------
async def notify_reporter(services, report, key: str, dedupe: str, **values) -> bool:
    """Push a status message about their case to the reporter (not for anonymous cases)."""
    if report["reporter_person_id"] is None:
        return False
    body = services.translate(key, report["lang"], case_no=report["case_no"], **values)
    return await services.outbox.push_to_person(
        report["reporter_person_id"], "report-status",
        Outgoing(text=body, buttons=[[Button(services.translate("report.btn_myreports", report["lang"]),
                                             "/myreports")]]),
        dedupe_key=f"report:{report['case_no']}:{dedupe}",
    )


async def schedule_care(services, report) -> int:
    """Queue the victim-care follow-ups (day 1, 3, 7) for a case with a loss; return how many were new."""
    lost = report["money_left"] == 1 or (report["amount_yuan"] or 0) > 0
    if not lost or report["reporter_person_id"] is None:
        return 0
    account = await services.store.accounts.preferred(report["reporter_person_id"])
    if account is None:
        return 0
    cfg = services.config.reports
    lang = report["lang"]
    counselling = cfg.counselling_en if lang == "en" else cfg.counselling_zh
    legal = cfg.legal_aid_en if lang == "en" else cfg.legal_aid_zh
    queued = 0
    start = parse_iso(report["created_at"])
    for day in CARE_DAYS:
        body = services.translate(f"report.care_day{day}", lang, case_no=report["case_no"],
                                  counselling=counselling or "-", legal_aid=legal or "-")
        row = OutboxRow(channel=account.platform, address=account.chat_key, campaign="report-care",
                        payload=Outgoing(text=body).to_dict(), dedupe_key=f"report:{report['case_no']}:care:{day}",
                        account_id=account.id, person_id=report["reporter_person_id"])
        queued += await services.store.outbox.enqueue([row], not_before=iso(start + timedelta(days=day)))
    return queued


# --- possible campaigns ------------------------------------------------------------------
async def check_campaigns(services, report_id: int) -> int:
    """Raise a 'possible campaign' alert for each identifier reported by enough people lately."""
    cfg = services.config.reports
    store = services.store
    since = services.clock.now() - timedelta(days=cfg.campaign_alert_days)
    raised = 0
    for identifier in await store.reports.identifiers(report_id):
        cluster = await store.reports.cluster(identifier.normalized, since)
        reporters = {r["reporter_person_id"] if r["reporter_person_id"] is not None else -r["id"] for r in cluster}
        if len(reporters) < cfg.campaign_alert_reports:
            continue
        fraud_type = Counter(r["fraud_type"] for r in cluster).most_common(1)[0][0]
        colleges = sorted({r["college"] for r in cluster if r["college"]})
        alert_id = await store.reports.record_campaign_alert(
            identifier.normalized, identifier.kind, cluster[0]["case_no"], len(cluster), fraud_type, colleges)
        if alert_id is None:
            continue
        await services.outbox.push_to_security(
            "report-campaign", await campaign_card(services, alert_id), f"report-campaign:{alert_id}")
        raised += 1
    return raised


async def campaign_card(services, alert_id: int) -> Outgoing:
    """The alert card: what was reported how often, where, and a draft warning to send with one tap."""
    lang = office_lang(services)
    t = services.translate
    alert = await services.store.reports.campaign_alert(alert_id)
    colleges = json.loads(alert["colleges"]) or [t("report.all_colleges", lang)]
    body = "\n".join([
        t("report.campaign_title", lang, identifier=alert["normalized"],
          kind=t("report.kind." + alert["kind"], lang), n=alert["report_count"],
          days=services.config.reports.campaign_alert_days),
        t("report.campaign_detail", lang, type=type_name(services, alert["fraud_type"], lang),
          colleges=", ".join(colleges), since=alert["first_case_no"]),
        "",
        t("report.campaign_draft_intro", lang),
        warning_text(services, alert, lang),
    ])
    return Outgoing(text=body, buttons=[[Button(t("report.btn_send_warning", lang), SEND_WARNING.pack(alert_id))]],
                    urgent=True, ref=f"campaign:{alert_id}")


def warning_text(services, alert, lang: str) -> str:
    """The draft case warning for students and staff, in lang."""
    return services.translate("report.warning_text", lang, identifier=alert["normalized"],
                              type=type_name(services, alert["fraud_type"], lang), n=alert["report_count"])


async def send_campaign_warning(services, alert_id: int, actor_id: int | None) -> int | None:
    """Send the drafted warning to everyone in the affected colleges; None if it had already gone."""
    store = services.store
    alert = await store.reports.campaign_alert(alert_id)
    if alert is None or alert["sent_at"]:
        return None
    colleges = json.loads(alert["colleges"])
    people = await store.reports.people_in_colleges(colleges) if colleges else await store.people.pushable_ids()

    def message(account) -> Outgoing:
        lang = account.language or services.config.general.default_language
        return Outgoing(text=warning_text(services, alert, lang),
                        buttons=[[Button(services.translate("report.btn_report", lang), "/report")]])

    summary = await services.outbox.push_many(f"report-warning:{alert_id}", [(p, message) for p in people])
    if not await store.reports.mark_campaign_sent(alert_id, actor_id, summary.queued):
        return None
    return summary.queued
