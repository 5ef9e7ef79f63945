"""The ledger (台账): the school's anti-fraud work over a period, as a workbook ready to print and file.

Four sheets: a summary of the figures, the activities (case warnings, warnings sent from a campaign
alert's draft, contests, dorm talks, class meetings, reminders, drills assigned and completed, each with
who was responsible), the reports with their handling timeline, the other side's identifiers and the
officer in charge (no reporter identity), per-class figures, and the 倒查 reviews of flagged cases (an
open one says so). A loss nobody stated is blank (unknown),
never 0. The reports and classes sheets end in a 合计 row equal to the summary (people on no class get a
row of their own), and every sheet ends with 制表人 / 导出时间 / 签字 lines. Headers come from
content/ui/office.toml (Chinese by default).

Formats: XLSX (one worksheet per sheet, bold frozen header, landscape, fit to page width, header repeated
on every printed page), or CSV as a ZIP holding one UTF-8 (with BOM, so Excel shows Chinese) CSV file per
sheet — one file per sheet keeps each table's own columns, which a single file with a section column
would have to pad.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import iso, parse_iso
from handlers.figures import Period, compute_figures
from storage.stats import Scope

PERCENT = "0.0%"
THOUSANDS = "#,##0"
AUDIENCE_TAGS = ("freshman", "graduate", "international", "staff")
ACTION_KEYS = ("received", "submitted", "escalated", "reescalated", "fallback", "flagged_review", "acknowledged",
               "assigned", "replied", "care_notified", "resolved", "reviewed", "repaged", "chain_ended")
# Notes the code writes for itself in English ("2 people paged", "1 told"): the step's name says enough.
SILENT_NOTES = ("fallback", "care_notified", "repaged", "chain_ended")
STATUSES = ("received", "acknowledged", "in_progress", "resolved")


class Rate(float):
    """A share between 0 and 1, shown as a percentage (the summary mixes rates, counts and minutes)."""


@dataclass
class Sheet:
    """One table: a title, headers, rows (Rate values print as percentages) and the lines under it."""

    key: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    wrap: tuple[int, ...] = ()          # 0-based columns whose long text wraps
    money: tuple[int, ...] = ()         # 0-based columns of yuan, printed with thousands separators
    footer: list[str] = field(default_factory=list)
    total_row: bool = False             # the last row is a 合计 row (printed bold)


async def build_sheets(store, config, library, translate, period: Period, college: str = "",
                       lang: str = "zh", maker: str = "", now: datetime | None = None) -> list[Sheet]:
    """Read everything the ledger needs for a period (and college) into sheets."""
    t = lambda key, **v: translate(f"ledger.{key}", lang, **v)  # noqa: E731
    tz = config.tz
    names: dict[int, str] = {}

    async def who(person_id: int | None) -> str:
        """A person as the clerk files them: name and number ('' for nobody, '#id' once forgotten)."""
        if person_id is None:
            return ""
        if person_id not in names:
            person = await store.people.get(person_id)
            names[person_id] = (" ".join(filter(None, [person.name, person.person_no])) or f"#{person_id}"
                                if person is not None and not person.forgotten_at else f"#{person_id}")
        return names[person_id]
    since, until = period.bounds(tz)
    first, last = period.first.isoformat(), period.last.isoformat()

    def local(text: str | None) -> str:
        return parse_iso(text).astimezone(tz).strftime("%Y-%m-%d %H:%M") if text else ""

    def type_name(type_id: str) -> str:
        return library.types[type_id].name.get(lang) if type_id in library.types else type_id

    figures = await compute_figures(store, config, library.pledge.version, Scope(college=college), period)
    summary = Sheet("summary", t("sheet_summary"), [t("h_item"), t("h_value")], widths=[30, 40], wrap=(1,))
    pop = figures.population
    summary.rows = [
        [t("s_school"), config.general.school_name_zh if lang == "zh" else config.general.school_name_en],
        [t("s_scope"), college or t("whole_school")],
        [t("s_period"), f"{first} — {last}"],
        [t("s_people"), pop.people],
        [t("s_bound"), pop.bound],
        [t("s_pledge"), _fraction(pop.pledged, pop.people)],
        [t("s_checkin"), _fraction(figures.checkin_days, pop.bound * period.days)],
        [t("s_awareness"), _fraction(pop.passed, pop.people)],
        [t("s_quiz_avg"), round(figures.quiz_average, 1) if figures.quiz_average is not None else ""],
        [t("s_reports"), figures.reports.count],
        [t("s_urgent"), figures.reports.urgent],
        [t("s_money"), figures.reports.money],
        [t("s_ack_median"), round(figures.reports.median_ack, 1) if figures.reports.median_ack is not None else ""],
        [t("s_reports_last_year"), figures.last_year.count],
        [t("s_money_last_year"), figures.last_year.money],
        [t("s_last_year_source"), t("source_database") if figures.baseline is None else
         f"{figures.baseline.sources}（{figures.baseline.spans}）"],
        [t("s_double"), t(f"verdict_{figures.verdict}")],
    ]

    activities = Sheet("activities", t("sheet_activities"),
                       [t("h_date"), t("h_kind"), t("h_scope"), t("h_content"), t("h_people"), t("h_owner"),
                        t("h_note")],
                       widths=[12, 16, 20, 44, 10, 16, 24], wrap=(2, 3, 6))
    office = store.office
    for w in await office.warnings_between(since, until):
        case = library.case_by_id(w["case_id"]) if w["case_id"] else None
        content = case.text(lang).title if case else (w["body"] or "")[:80]
        activities.rows.append([local(w["created_at"])[:10], t("a_office_warning"), _audience(translate, lang, w["audience"]),
                                content, w["queued"], await who(w["sent_by"]), t("n_unreachable", n=w["unreachable"])])
    for a in await office.campaign_warnings_between(since, until):
        colleges = ", ".join(json.loads(a["colleges"] or "[]")) or t("whole_school")
        activities.rows.append([local(a["sent_at"])[:10], t("a_campaign_warning"), colleges,
                                t("n_campaign", identifier=a["normalized"], type=type_name(a["fraud_type"]),
                                  n=a["report_count"]), a["sent_count"], await who(a["sent_by"]), ""])
    for day, case_id, _fraud_type, people, answered in await office.weekly_warnings_between(first, last):
        case = library.case_by_id(case_id)
        activities.rows.append([day, t("a_weekly_warning"), t("whole_school"),
                                case.text(lang).title if case else case_id, people, t("owner_scheduled"),
                                t("n_answered", n=answered)])
    for c in await office.contests_between(since, until):
        average = f"{c['average']:.1f}" if c["average"] is not None else "-"
        scope = {"school": t("whole_school")}.get(c["scope"], c["scope_value"])
        if c["scope"] == "class" and str(c["scope_value"]).isdigit():
            klass = await store.classes.get(int(c["scope_value"]))
            scope = klass.name if klass else scope
        activities.rows.append([local(c["created_at"])[:10], t("a_contest"), scope, t("n_contest", id=c["id"]),
                                c["entries"], await who(c["started_by"]), t("n_average", score=average)])
    for log in await office.logs_between(first, last, college):
        activities.rows.append([log["held_on"], t(f"a_{log['kind']}"), log["class_name"], log["topic"],
                                log["attendance"], await who(log["logged_by"]),
                                t("n_photo") if log["photo_path"] else ""])
    for r in await office.reminders_between(first, last, college):
        activities.rows.append([r["day"], t("a_reminder"), r["class_name"], t(f"item_{r['item']}"), r["queued"],
                                await who(r["sent_by"]), t("n_missing", n=r["missing"])])
    drill_titles = {d.id: d.title.get(lang) for d in _drills(library)}
    for drill_id, audience, assigned_at, assigned, finished in await store.drills.ledger(since, until):
        activities.rows.append([local(assigned_at)[:10], t("a_drill_assigned"), _audience(translate, lang, audience),
                                drill_titles.get(drill_id, drill_id), assigned, "", t("n_finished", n=finished)])
    for drill_id, runs, passed in await store.drills.finished_between(since, until):
        activities.rows.append([first, t("a_drill_done"), t("whole_school"), drill_titles.get(drill_id, drill_id),
                                runs, "", t("n_passed", n=passed)])
    activities.rows.sort(key=lambda row: row[0])

    reports = Sheet("reports", t("sheet_reports"),
                    [t("h_case_no"), t("h_submitted"), t("h_happened"), t("h_type"), t("h_urgent"), t("h_amount"),
                     t("h_counterparty"), t("h_college"), t("h_class"), t("h_status"), t("h_owner"),
                     t("h_acknowledged"), t("h_ack_minutes"), t("h_resolved"), t("h_timeline"), t("h_resolution")],
                    widths=[16, 17, 16, 14, 6, 12, 26, 14, 14, 9, 14, 17, 10, 17, 48, 30],
                    wrap=(2, 6, 14, 15), money=(5,), total_row=True)
    events = await office.report_events_between(since, until)
    known_loss = unknown = 0
    for r in await office.reports_between(since, until, college):
        minutes = ""
        if r["acknowledged_at"]:
            delta = parse_iso(r["acknowledged_at"]) - parse_iso(r["submitted_at"])
            minutes = round(max(0.0, delta.total_seconds() / 60), 1)
        timeline = "\n".join(
            f"{local(at)} {t('e_' + action) if action in ACTION_KEYS else action}"
            + (f"：{note}" if note and action not in SILENT_NOTES else "")
            for action, note, at in events.get(r["id"], []))
        status = t(f"st_{r['status']}") if r["status"] in STATUSES else r["status"]
        # A loss nobody stated is unknown (blank), not 0; "no money left" is a known 0.
        loss = r["amount_yuan"] if r["amount_yuan"] is not None else (0 if r["money_left"] == 0 else None)
        known_loss += loss or 0
        unknown += loss is None
        happened = r["happened_at"] or ""
        if r["happened_ts"]:
            read = local(r["happened_ts"])[:10 if r["happened_precision"] == "day" else 16]
            happened = read if happened in ("", read) else f"{happened}（{read}）"
        if r["amount_currency"]:
            status += f"；{t('n_currency', original=r['amount_original'], currency=r['amount_currency'])}"
        reports.rows.append([r["case_no"], local(r["submitted_at"]), happened,
                             type_name(r["fraud_type"]), t("yes") if r["urgent"] else t("no"), loss,
                             r["identifiers"] or "", r["college"] or "", r["class_name"] or "", status,
                             await who(r["assigned_to"]), local(r["acknowledged_at"]), minutes,
                             local(r["resolved_at"]), timeline, r["resolution_note"] or ""])
    reports.rows.append([t("total"), t("n_cases", n=len(reports.rows)), "", "", "", known_loss,
                         *[""] * 10])
    summary.rows.insert(12, [t("s_money_unknown"), unknown])

    classes = Sheet("classes", t("sheet_classes"),
                    [t("h_college"), t("h_class"), t("h_people"), t("h_bound"), t("h_pledged"), t("h_pledge_rate"),
                     t("h_checkin_rate"), t("h_passed"), t("h_awareness"), t("h_dorm_talks"), t("h_meetings"),
                     t("h_drilled")],
                    widths=[16, 16, 8, 8, 10, 11, 9, 10, 9, 11, 9, 10], wrap=(0, 1), total_row=True)
    sums = [0, 0, 0, 0, 0, 0, 0]      # people, bound, pledged, passed, dorm talks, meetings, drilled
    for f in await store.stats.per_class(library.pledge.version, until, first, last, since, college=college):
        classes.rows.append([f["college"], f["name"], f["people"], f["bound"], f["pledged"],
                             _fraction(f["pledged"], f["people"]), _fraction(f["checkin_days"], f["bound"] * period.days),
                             f["passed"], _fraction(f["passed"], f["people"]), f["dorm_talk"], f["class_meeting"],
                             f["drilled"]])
        for i, key in enumerate(("people", "bound", "pledged", "passed", "dorm_talk", "class_meeting", "drilled")):
            sums[i] += f[key]
    # People on the roster without a class count in the summary: a row of their own makes the sheets agree.
    rest = [pop.people - sums[0], pop.bound - sums[1], pop.pledged - sums[2], pop.passed - sums[3]]
    if any(rest):
        classes.rows.append([college or "", t("no_class"), rest[0], rest[1], rest[2], _fraction(rest[2], rest[0]),
                             "", rest[3], _fraction(rest[3], rest[0]), "", "", ""])
    classes.rows.append([t("total"), "", pop.people, pop.bound, pop.pledged, _fraction(pop.pledged, pop.people),
                         _fraction(figures.checkin_days, pop.bound * period.days), pop.passed,
                         _fraction(pop.passed, pop.people), sums[4], sums[5], sums[6]])
    reviews = Sheet("reviews", t("sheet_reviews"),
                    [t("h_case_no"), t("h_amount"), t("h_college"), t("h_status"), t("h_reviewer"),
                     t("h_interviewed"), t("h_findings"), t("h_responsibility"), t("h_follow_up"), t("h_reviewed_at")],
                    widths=[16, 12, 14, 9, 14, 12, 36, 30, 30, 17], wrap=(6, 7, 8), money=(1,))
    for v in await store.reports.reviews_between(since, until, college):
        status = t(f"st_{v['status']}") if v["status"] in STATUSES else v["status"]
        if v["reviewed_at"] is None:
            reviews.rows.append([v["case_no"], v["amount_yuan"], v["college"] or "", status, "", "",
                                 t("review_open"), "", "", ""])
            continue
        reviews.rows.append([v["case_no"], v["amount_yuan"], v["college"] or "", status, await who(v["reviewer_id"]),
                             v["interviewed_on"], v["findings"], v["responsibility"], v["follow_up"],
                             local(v["reviewed_at"])])
    sheets = [summary, activities, reports, classes, reviews]
    footer = [t("f_maker", name=maker or "________"), t("f_exported", at=local(iso(now or store.clock.now()))),
              t("f_sign")]
    for sheet in sheets:
        sheet.footer = footer
    return sheets


def _drills(library) -> list:
    return list(library.extra.get("drills", {}).values())


def _audience(translate, lang: str, audience: str) -> str:
    """An audience as stored (all, a tag, a college or class name) in words."""
    if audience in ("all", ""):
        return translate("ledger.whole_school", lang)
    if audience in AUDIENCE_TAGS:
        return translate(f"warn.aud_{audience}", lang)
    return audience


def _fraction(part: int, whole: int) -> Rate:
    return Rate(round(part / whole, 4) if whole else 0.0)


def to_xlsx(sheets: list[Sheet], title: str) -> bytes:
    """The sheets as an XLSX workbook, laid out for printing."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(sheet.headers)
        for cell in ws[1]:
            cell.font, cell.fill, cell.alignment = bold, fill, Alignment(wrap_text=True, vertical="center")
        for row in sheet.rows:
            ws.append(row)
        for row_no, row in enumerate(sheet.rows, 2):
            for column_no, value in enumerate(row, 1):
                cell = ws.cell(row_no, column_no)
                if isinstance(value, Rate):
                    cell.number_format = PERCENT
                elif column_no - 1 in sheet.money or (isinstance(value, int) and not isinstance(value, bool)):
                    cell.number_format = THOUSANDS
                if column_no - 1 in sheet.wrap:
                    cell.alignment = wrap
        if sheet.total_row and sheet.rows:
            for cell in ws[len(sheet.rows) + 1]:
                cell.font = bold
        footer_row = len(sheet.rows) + 3
        for n, line in enumerate(sheet.footer):
            ws.cell(footer_row + n, 1, line)
        for i, width in enumerate(sheet.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddHeader.center.text = f"{title} — {sheet.title}"
        ws.oddFooter.center.text = "&P / &N"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv_zip(sheets: list[Sheet]) -> bytes:
    """The sheets as a ZIP of CSV files (UTF-8 with BOM), one per sheet, rates written as '85.0%'."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, sheet in enumerate(sheets, 1):
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(sheet.headers)
            for row in sheet.rows:
                writer.writerow([_csv_value(v) for v in row])
            writer.writerow([])
            for line in sheet.footer:
                writer.writerow([line])
            archive.writestr(f"{n}_{sheet.title}.csv", "\ufeff" + out.getvalue())
    return buffer.getvalue()


def _csv_value(value):
    """A cell as the CSV shows it: rates as '85.0%', whole numbers with thousands separators, blanks blank."""
    if isinstance(value, Rate):
        return f"{value * 100:.1f}%"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else value


async def export_ledger(store, config, library, translate, period: Period, college: str = "", fmt: str = "xlsx",
                        lang: str = "zh", maker: str = "") -> tuple[bytes, str]:
    """The ledger file's bytes and a file name for it; maker is who made the table (制表人)."""
    sheets = await build_sheets(store, config, library, translate, period, college, lang, maker,
                                store.clock.now())
    title = translate("ledger.title", lang)
    stem = f"{title}_{college + '_' if college else ''}{period.first.isoformat()}_{period.last.isoformat()}"
    if fmt == "csv":
        return to_csv_zip(sheets), f"{stem}.zip"
    return to_xlsx(sheets, title), f"{stem}.xlsx"
