"""The ledger (台账): XLSX opened with openpyxl and checked cell by cell, the CSV ZIP, /export and its audit."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook

from bot.cli import build_parser
from bot.clock import iso
from handlers.figures import Period
from handlers.ledger import export_ledger
from tests.office_support import add_class, add_person, chat, checkin, pledge, quiz, report
from tests.program_support import local

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 23))


@pytest.fixture
async def filled(app):
    """Two classes with a few people, a dorm talk, a reminder, a warning, and two reports with timelines."""
    a1, b1 = await add_class(app, "计科2301", "计算机学院"), await add_class(app, "英语2302", "外国语学院")
    mon = await add_person(app, "M1", a1, "计算机学院", role="monitor", name="班长")
    s1 = await add_person(app, "S1", a1, "计算机学院", name="学生一")
    await add_person(app, "S2", a1, "计算机学院", bound=False)
    await add_person(app, "X1", b1, "外国语学院")
    await add_person(app, "SEC", None, "", role="security")
    for pid in (mon, s1):
        await pledge(app, pid)
    await quiz(app, mon, 90, local(2026, 11, 5))
    await checkin(app, mon, "2026-11-20")
    await checkin(app, s1, "2026-11-21")
    await app.store.office.add_log(a1, "dorm_talk", "2026-11-20", "防范刷单", 3, "classlogs/1/x.jpg", mon)
    await app.store.office.add_log(a1, "class_meeting", "2026-10-30", "上月的班会", 3, None, mon)  # before the period
    await app.store.office.add_reminder(a1, "pledge", "2026-11-22", 1, 1, mon)
    warning_id = await app.store.office.add_warning("brushing-1", None, "all", 4, None)
    await app.store.office.finish_warning(warning_id, 3, 1)
    r1 = await report(app, "R-2026-000001", local(2026, 11, 18, 9, 0), "brushing", 5000, urgent=True,
                      college="计算机学院", class_id=a1, ack_minutes=4)
    await report(app, "R-2026-000002", local(2026, 11, 22, 10, 0), "loan", 0, college="外国语学院", class_id=b1)
    await report(app, "R-2025-000009", local(2025, 11, 10), "loan", 700, college="计算机学院")
    await app.store.db.execute("DELETE FROM report_events")
    for action, note, moment in (("submitted", None, local(2026, 11, 18, 9, 0)),
                                 ("acknowledged", None, local(2026, 11, 18, 9, 4)),
                                 ("resolved", "已联系银行止付", local(2026, 11, 19, 15, 30))):
        await app.store.db.execute("INSERT INTO report_events (report_id, action, note, at) VALUES (?, ?, ?, ?)",
                                   (r1, action, note, iso(moment)))
    await app.store.db.execute("UPDATE reports SET status = 'resolved', resolved_at = ?, resolution_note = ?"
                               " WHERE id = ?", (iso(local(2026, 11, 19, 15, 30)), "已联系银行止付", r1))
    return {"a1": a1, "b1": b1}


def table(ws) -> list[list]:
    """The rows of a sheet's table under its header, up to the blank line before the signature lines."""
    rows = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(list(row))
    return rows


def footer(ws) -> list[str]:
    """The lines under a sheet's table: 制表人, 导出时间, 签字."""
    return [row[0] for row in ws.iter_rows(min_row=len(table(ws)) + 3, values_only=True) if row[0]]


async def _workbook(app, college: str = ""):
    data, name = await export_ledger(app.store, app.config, app.services.library, app.services.translate, PERIOD,
                                     college)
    return load_workbook(io.BytesIO(data)), name


async def test_the_xlsx_cell_by_cell(app, filled):
    book, name = await _workbook(app)
    assert name == "反诈工作台账_2026-11-01_2026-11-23.xlsx"
    assert book.sheetnames == ["汇总", "活动记录", "举报处置", "班级情况", "倒查记录"]

    summary = {row[0]: row[1] for row in table(book["汇总"])}
    assert summary["范围"] == "全校" and summary["期间"] == "2026-11-01 — 2026-11-23"
    assert summary["人数"] == 4 and summary["已绑定人数"] == 3
    assert summary["承诺书覆盖率"] == 0.5 and summary["知晓率"] == 0.25
    assert summary["打卡率"] == round(2 / (3 * 23), 4)
    assert summary["举报案件数"] == 2 and summary["紧急案件数"] == 1 and summary["报告损失金额（元）"] == 5000
    assert summary["受理用时中位数（分钟）"] == 4.0
    assert summary["去年同期案件数"] == 1 and summary["去年同期损失金额（元）"] == 700
    assert summary["损失金额未知的案件数"] == 0 and summary["去年同期数据来源"] == "本系统记录"
    assert summary["是否实现双降"] == "否"
    assert book["汇总"]["B7"].number_format == "0.0%"
    for ws in book.worksheets:
        lines = footer(ws)
        assert lines[0] == "制表人：________" and lines[1] == "导出时间：2026-11-23 12:00", ws.title
        assert lines[2].startswith("审核人（签字）：")

    acts = book["活动记录"]
    assert [c.value for c in acts[1]] == ["日期", "类别", "范围", "内容", "人数", "负责人", "备注"]
    rows = table(acts)
    case_title = app.services.library.case_by_id("brushing-1").zh.title
    assert ["2026-11-20", "寝室恳谈会", "计科2301", "防范刷单", 3, "班长 M1", "有照片"] in rows
    assert ["2026-11-22", "班级提醒", "计科2301", "承诺书", 1, "班长 M1", "缺项 1 人"] in rows
    assert ["2026-11-23", "即时案例警示", "全校", case_title, 3, None, "无法送达 1 人"] in rows
    assert not any(r[3] == "上月的班会" for r in rows)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert acts["D2"].alignment.wrap_text

    reps = book["举报处置"]
    assert [c.value for c in reps[1]] == [
        "案件编号", "提交时间", "发生时间", "诈骗类型", "紧急", "损失金额（元）", "对方号码/账号", "学院", "班级", "状态",
        "负责人", "受理时间", "受理用时（分钟）", "结案时间", "处置经过", "结案说明"]
    first, second, total = table(reps)
    assert first[0] == "R-2026-000001" and first[1] == "2026-11-18 09:00"
    assert first[3] == app.services.library.types["brushing"].name.zh
    assert first[4:6] == ["是", 5000] and first[7:10] == ["计算机学院", "计科2301", "已结案"]
    assert first[11] == "2026-11-18 09:04" and first[12] == 4.0 and first[13] == "2026-11-19 15:30"
    assert first[14] == "2026-11-18 09:00 提交\n2026-11-18 09:04 受理\n2026-11-19 15:30 结案：已联系银行止付"
    assert first[15] == "已联系银行止付"
    assert reps["F2"].number_format == "#,##0" and reps["O2"].alignment.wrap_text
    assert second[0] == "R-2026-000002" and second[9] == "已接收" and second[11] is None and second[12] is None
    assert total[:2] == ["合计", "2 件"] and total[5] == summary["报告损失金额（元）"] and reps["A4"].font.bold

    klass = book["班级情况"]
    assert [c.value for c in klass[1]][:6] == ["学院", "班级", "人数", "已绑定", "签承诺书", "承诺覆盖率"]
    rows = table(klass)
    a1 = [c.value for c in klass[3]]
    assert a1[:5] == ["计算机学院", "计科2301", 3, 2, 2]
    assert a1[5] == round(2 / 3, 4) and a1[6] == round(2 / (2 * 23), 4) and a1[7] == 1
    assert a1[9:] == [1, 0, 0]
    assert klass["F3"].number_format == "0.0%"
    assert [c.value for c in klass[2]][:3] == ["外国语学院", "英语2302", 1]
    assert rows[-1][0] == "合计" and rows[-1][2:5] == [summary["人数"], summary["已绑定人数"], 3 - 1]
    assert sum(r[2] for r in rows[:-1]) == summary["人数"]
    assert acts.print_title_rows == "$1:$1" and acts.page_setup.orientation == "landscape"


async def test_a_college_ledger_keeps_to_that_college(app, filled):
    book, name = await _workbook(app, "外国语学院")
    assert "外国语学院" in name
    assert [r[0] for r in table(book["举报处置"])] == ["R-2026-000002", "合计"]
    assert [r[1] for r in table(book["班级情况"])] == ["英语2302", None]
    assert not any(r[1] == "寝室恳谈会" for r in table(book["活动记录"]))


async def test_the_csv_zip_has_one_file_per_sheet(app, filled):
    data, name = await export_ledger(app.store, app.config, app.services.library, app.services.translate, PERIOD,
                                     fmt="csv")
    assert name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["1_汇总.csv", "2_活动记录.csv", "3_举报处置.csv", "4_班级情况.csv", "5_倒查记录.csv"]
    raw = archive.read("4_班级情况.csv").decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert rows[0][:3] == ["学院", "班级", "人数"] and rows[2][5] == "66.7%"
    assert rows[-3][0] == "制表人：________" and rows[-1][0].startswith("审核人（签字）")
    reports = list(csv.reader(io.StringIO(archive.read("3_举报处置.csv").decode("utf-8").lstrip("\ufeff"))))
    assert reports[1][5] == "5,000" and reports[3][:2] == ["合计", "2 件"]


async def test_export_in_the_chat_is_security_only_and_audited(app, filled):
    sec = chat(app, "SEC")
    await sec.say("/export 2026-11-01..2026-11-23")
    (reply,) = sec.replies
    assert reply.filename.endswith(".xlsx") and reply.file[:2] == b"PK" and "台账" in reply.text
    audit = await app.store.audit.recent(5, "export.ledger")
    assert len(audit) == 1 and audit[0]["target"] == reply.filename and '"via": "chat"' in audit[0]["detail"]
    await sec.say("/export term csv")
    assert sec.replies[0].filename.endswith(".zip")
    await sec.say("/export 火星")
    assert "看不懂" in sec.text
    await add_person(app, "ADM", None, "", role="admin")
    admin = chat(app, "ADM")
    await admin.say("/export")
    assert admin.replies[0].file is None and "仅限学校保卫处" in admin.text
    assert len(await app.store.audit.recent(10, "export.refused")) == 1
    monitor = chat(app, "M1")
    await monitor.say("/export")
    assert monitor.replies[0].file is None and monitor.replies[0].alert


async def run_cli(config, *argv: str) -> int:
    """Parse a `wuzha` command line and run its command on the test config (inside the test's event loop)."""
    args = build_parser().parse_args(list(argv))
    return await args.func(args, config)


async def test_wuzha_export_ledger_and_audit_from_the_command_line(config, tmp_path, capsys):
    out = tmp_path / "ledger.xlsx"
    assert await run_cli(config, "export", "ledger", "--from", "2026-09-01", "--to", "2026-11-23", "--out", str(out)) == 0
    assert load_workbook(out).sheetnames == ["汇总", "活动记录", "举报处置", "班级情况", "倒查记录"]
    out_csv = tmp_path / "ledger.zip"
    assert await run_cli(config, "export", "ledger", "--from", "2026-09-01", "--to", "2026-11-23", "--format", "csv",
                         "--out", str(out_csv)) == 0
    assert zipfile.is_zipfile(out_csv)
    assert await run_cli(config, "export", "ledger", "--from", "2026-11-23", "--to", "2026-09-01") == 2
    assert await run_cli(config, "export", "ledger", "--from", "2026-09-01", "--to", "2026-11-23",
                         "--college", "火星") == 2
    capsys.readouterr()
    assert await run_cli(config, "audit") == 0
    printed = capsys.readouterr().out
    assert printed.count("export.ledger") == 2 and "ledger.xlsx" in printed and "via=cli" in printed


async def test_summary_counts_and_minutes_are_not_printed_as_percentages(app, filled):
    book, _ = await _workbook(app)
    cells = {row[0].value: row[1] for row in book["汇总"].iter_rows(min_row=2)}
    assert cells["承诺书覆盖率"].number_format == "0.0%"
    assert cells["测试平均分"].value == 90 and cells["测试平均分"].number_format == "General"
    assert cells["受理用时中位数（分钟）"].number_format == "General"
    data, _ = await export_ledger(app.store, app.config, app.services.library, app.services.translate, PERIOD,
                                  fmt="csv")
    raw = zipfile.ZipFile(io.BytesIO(data)).read("1_汇总.csv").decode("utf-8").lstrip("\ufeff")
    summary = dict(row for row in csv.reader(io.StringIO(raw)) if len(row) == 2)
    assert summary["测试平均分"] == "90.0" and summary["受理用时中位数（分钟）"] == "4.0"
    assert summary["承诺书覆盖率"] == "50.0%"


async def test_the_timeline_names_every_step_in_chinese(app, filled):
    r2 = await app.store.db.fetchval("SELECT id FROM reports WHERE case_no = 'R-2026-000002'")
    for action, note in (("received", None), ("flagged_review", "5000"), ("reescalated", "1/3"),
                         ("fallback", "2 people paged"), ("replied", "请保持电话畅通"), ("care_notified", "1 told")):
        await app.store.reports.add_event(r2, action, note=note)
    book, _ = await _workbook(app)
    timeline = [c.value for c in book["举报处置"][3]][14]
    for raw in ("received", "flagged_review", "replied", "care_notified", "fallback", "people paged", "told"):
        assert raw not in timeline
    assert "请保持电话畅通" in timeline and "5000" in timeline


async def test_an_assigned_drill_shows_its_day_and_audience(app, filled):
    mon = await app.store.people.by_number("M1")
    s1 = await app.store.people.by_number("S1")
    await app.store.drills.assign("loan", [mon.id, s1.id], mon.id, "计科2301")
    book, _ = await _workbook(app)
    rows = table(book["活动记录"])
    assigned = [r for r in rows if r[1] == "布置情景演练"]
    assert [r[:3] + r[4:5] for r in assigned] == [["2026-11-23", "布置情景演练", "计科2301", 2]]


async def test_a_csv_ledger_asked_for_as_dot_csv_is_written_as_a_zip(config, tmp_path, capsys):
    out = tmp_path / "ledger.csv"
    assert await run_cli(config, "export", "ledger", "--from", "2026-09-01", "--to", "2026-11-23", "--format", "csv",
                         "--out", str(out)) == 0
    assert not out.exists() and zipfile.is_zipfile(tmp_path / "ledger.zip")
    assert "ledger.zip" in capsys.readouterr().out


async def test_wuzha_audit_names_the_actor_by_number_and_local_time(app, config, capsys):
    officer = await app.store.people.create("S0777", None, "保卫处", role="security")
    await app.store.audit.write("report.view", "R-2026-000009", actor_person_id=officer.id)
    capsys.readouterr()
    assert await run_cli(config, "audit") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "report.view" in x)
    assert "S0777" in line and line.startswith("2026-11-23 12:00")


async def test_what_a_clerk_files_is_whole_and_agrees_with_itself(app, filled):
    from handlers.identifiers import extract_identifiers

    staff = await add_person(app, "T9", None, "计算机学院", role="staff", name="王老师")     # on no class
    await pledge(app, staff)
    sec = await app.store.people.by_number("SEC")
    r3 = await report(app, "R-2026-000003", local(2026, 11, 21, 20, 0), "fake_service", college="计算机学院")
    await app.store.db.execute("UPDATE reports SET amount_yuan = NULL, money_left = NULL, happened_at = ?,"
                               " assigned_to = ? WHERE id = ?", ("昨天晚上8点", sec.id, r3))
    await app.store.reports.add_identifiers(r3, extract_identifiers("微信 kefu_jd8888，卡号 6222 0212 3456 7890 123"))
    alert = await app.store.reports.record_campaign_alert("kefu_jd8888", "wechat", "R-2026-000003", 2,
                                                          "fake_service", ["计算机学院"])
    await app.store.reports.mark_campaign_sent(alert, sec.id, 120)
    data, _ = await export_ledger(app.store, app.config, app.services.library, app.services.translate, PERIOD,
                                  maker="张三 S001")
    book = load_workbook(io.BytesIO(data))
    summary = {row[0]: row[1] for row in table(book["汇总"])}
    assert summary["人数"] == 5 and summary["举报案件数"] == 3 and summary["损失金额未知的案件数"] == 1
    reps = table(book["举报处置"])
    third = next(r for r in reps if r[0] == "R-2026-000003")
    assert third[2] == "昨天晚上8点" and third[5] is None                      # unknown, not 0
    assert third[6] == "kefu_jd8888; 6222021234567890123" and third[10] == "SEC"
    assert reps[-1][:2] == ["合计", "3 件"] and reps[-1][5] == summary["报告损失金额（元）"] == 5000
    classes = table(book["班级情况"])
    assert classes[-2][:5] == [None, "（未分班人员）", 1, 1, 1]
    assert classes[-1][2] == summary["人数"] == sum(r[2] for r in classes[:-1])
    assert classes[-1][4] == sum(r[4] for r in classes[:-1]) == 3
    acts = table(book["活动记录"])
    warned = [r for r in acts if r[1] == "预警推送（同号多报）"]
    assert warned == [["2026-11-23", "预警推送（同号多报）", "计算机学院",
                       f"kefu_jd8888（{app.services.library.types['fake_service'].name.zh}，2 起举报）", 120, "SEC", None]]
    assert footer(book["汇总"])[0] == "制表人：张三 S001"
