"""The weekly report picture: a CJK font is found, the PNG is produced, the Monday job sends it to security."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from bot.cli import build_parser
from handlers.weekly_report import collect, find_cjk_font, render
from tests.office_support import add_class, add_person, pledge, quiz, report
from tests.program_support import local
from tests.support import RecordingChannel


async def _some_data(app) -> None:
    a1 = await add_class(app, "计科2301", "计算机学院")
    b1 = await add_class(app, "英语2302", "外国语学院")
    for n in range(4):
        pid = await add_person(app, f"A{n}", a1, "计算机学院")
        if n < 3:
            await pledge(app, pid)
        if n < 2:
            await quiz(app, pid, 90, local(2026, 11, 1))
    await add_person(app, "B0", b1, "外国语学院")
    await report(app, "R-1", local(2026, 11, 18), "brushing", 5000)          # last complete week
    await report(app, "R-2", local(2026, 11, 11), "brushing", 1000)
    await report(app, "R-3", local(2025, 11, 19), "loan", 800)              # 52 weeks before R-1's week
    await report(app, "R-4", local(2026, 11, 23, 9), "loan", 99)            # this week so far: counted
    await report(app, "R-5", local(2025, 11, 24, 9), "loan", 50)            # 52 weeks before: the same Monday
    await report(app, "R-6", local(2025, 11, 25, 9), "loan", 70)            # later in that week than we are now


def test_a_cjk_font_is_found_and_has_chinese_glyphs():
    from fontTools.ttLib import TTFont

    path = find_cjk_font()
    with TTFont(str(path), fontNumber=0, lazy=True) as font:
        cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "反诈周报知晓率承诺书覆盖学院刷单返利")


async def test_the_figures_and_the_picture(app):
    await _some_data(app)
    data = await collect(app.store, app.config, app.services.library, app.services.translate, "zh",
                         today=date(2026, 11, 23))
    assert data.colleges == [("外国语学院", 0.0, 0.0), ("计算机学院", 50.0, 75.0)]
    assert len(data.weeks) == app.config.office.report_weeks and data.weeks[-1] == "11-23"
    assert data.reports[-3:] == [1, 1, 1] and sum(data.reports) == 3
    assert data.money[-2:] == [5000, 99] and data.reports_last_year[-2:] == [1, 1]
    assert data.money_last_year[-2:] == [800, 50]            # last year's week only as far as today
    assert data.top_types[0] == (app.services.library.types["brushing"].name.get("zh"), 2)
    assert data.this_week == ["11-23 至 11-23：新增案件 1 件（紧急 0），报告损失 ¥99",
                              "未结案 6 件，其中尚未受理 6 件",
                              "同比去年同期：案件 0 → 1，金额 ¥0 → ¥99，未实现双降"]    # calendar days
    assert data.week_missed
    assert data.lagging == ["落后班级 · 承诺书：英语2302 0%、计科2301 75%",
                            "落后班级 · 知晓率：英语2302 0%、计科2301 50%"]
    png = render(data, find_cjk_font())                   # warnings are errors: a missing glyph would fail here
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] == 1080 and image.size[1] > 1500
    assert len(png) > 50_000


async def test_the_monday_job_sends_it_to_the_security_channel(app):
    from handlers.weekly_report import send_weekly_report

    await _some_data(app)
    assert await send_weekly_report(app) is True
    assert await send_weekly_report(app) is False          # once per day
    console = RecordingChannel("console")
    sender = app.add_channel(console)
    while await sender.drain_once():
        pass
    (address, message), = console.sent
    assert address == "security" and message.image[:8] == b"\x89PNG\r\n\x1a\n" and "周报" in message.text


async def test_wuzha_report_weekly_writes_the_png(config, tmp_path, capsys):
    out = tmp_path / "weekly.png"
    args = build_parser().parse_args(["report", "weekly", "--out", str(out)])
    assert await args.func(args, config) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and "weekly report written" in capsys.readouterr().out
