"""/stats figures against a small database counted by hand, with the previous period and last year."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.figures import Period, compute_figures, parse_period
from storage.stats import Scope
from tests.office_support import add_class, add_person, chat, checkin, pledge, quiz, report
from tests.program_support import local

WEEK = Period(date(2026, 11, 17), date(2026, 11, 23))


@pytest.fixture
async def school(app):
    """Colleges A (classes A1, A2) and B (B1); eight people, five bound; see the comments for the counts."""
    a1, a2, b1 = (await add_class(app, "A1", "A"), await add_class(app, "A2", "A"), await add_class(app, "B1", "B"))
    p = {}
    for n, (klass, college, bound) in enumerate(
            [(a1, "A", True), (a1, "A", True), (a1, "A", True), (a1, "A", False),
             (a2, "A", True), (a2, "A", False), (b1, "B", True), (b1, "B", False)], start=1):
        p[n] = await add_person(app, f"S{n}", klass, college, name=f"学生{n}", bound=bound)
    await add_person(app, "SEC", None, "", role="security")                 # not counted
    gone = await add_person(app, "GONE", a1, "A")                            # forgotten: not counted
    await app.store.people.forget(gone)
    # Pledges: p1, p2, p5 signed version 1; p3 only an older version 0.
    for n in (1, 2, 5):
        await pledge(app, p[n])
    await pledge(app, p[3], version=0)
    # Awareness: p1 passed (90) and p7 passed long ago (100); p2 failed (60) in the week.
    await quiz(app, p[1], 90, local(2026, 11, 20))
    await quiz(app, p[2], 60, local(2026, 11, 21))
    await quiz(app, p[7], 100, local(2026, 10, 1))
    # Check-ins in the week: p1 all 7 days (3 questions a day), p2 on two days, p5 on one: 10 person-days.
    for d in range(17, 24):
        await checkin(app, p[1], f"2026-11-{d}", questions=3)
    await checkin(app, p[2], "2026-11-22")
    await checkin(app, p[2], "2026-11-23")
    await checkin(app, p[5], "2026-11-20")
    await checkin(app, p[5], "2026-11-16")                                   # the day before the week
    # Reports this week: 3 (one urgent), 6,000 yuan, acknowledged after 4 and 10 minutes.
    await report(app, "R-1", local(2026, 11, 18, 9), "brushing", 5000, urgent=True, college="A", class_id=a1,
                 ack_minutes=4)
    await report(app, "R-2", local(2026, 11, 19, 9), "brushing", 1000, college="A", class_id=a2, ack_minutes=10)
    await report(app, "R-3", local(2026, 11, 23, 8), "fake_service", 0, college="B", class_id=b1)
    await app.store.db.execute(
        "INSERT INTO reports (case_no, status, created_at) VALUES (NULL, 'draft', ?)", ("2026-11-20T00:00:00+00:00",))
    # The previous week: 4 reports, 10,000 yuan; last year's same week: 2 reports, 3,000 yuan.
    for i, amount in enumerate((4000, 3000, 2000, 1000)):
        await report(app, f"R-P{i}", local(2026, 11, 10 + i), "job", amount, college="A")
    await report(app, "R-L1", local(2025, 11, 17), "loan", 2000, college="B")
    await report(app, "R-L2", local(2025, 11, 23, 20), "loan", 1000, college="A")
    await report(app, "R-L3", local(2025, 11, 24, 1), "loan", 99999, college="A")   # just after last year's week
    return {"a1": a1, "a2": a2, "b1": b1, **{f"p{n}": v for n, v in p.items()}}


async def test_school_figures_match_the_hand_count(app, school):
    f = await compute_figures(app.store, app.config, 1, Scope(), WEEK)
    assert (f.population.people, f.population.bound, f.population.pledged, f.population.passed) == (8, 5, 3, 2)
    assert f.checkin_days == 10 and round(f.checkin_rate, 1) == round(100 * 10 / 35, 1)
    assert f.quiz_average == 75 and f.quizzes == 2
    assert (f.reports.count, f.reports.urgent, f.reports.money) == (3, 1, 6000)
    assert f.reports.by_type == [("brushing", 2), ("fake_service", 1)]
    assert f.reports.median_ack == 7
    assert (f.previous.count, f.previous.money) == (4, 10000)
    assert (f.last_year.count, f.last_year.money) == (2, 3000)
    assert not f.cases_down and not f.money_down and not f.double_decrease


async def test_college_and_class_scopes(app, school):
    a = await compute_figures(app.store, app.config, 1, Scope(college="A"), WEEK)
    assert (a.population.people, a.population.bound, a.population.pledged, a.population.passed) == (6, 4, 3, 1)
    assert a.checkin_days == 10
    assert (a.reports.count, a.reports.money, a.previous.count, a.last_year.count) == (2, 6000, 4, 1)
    a1 = await compute_figures(app.store, app.config, 1, Scope(class_id=school["a1"]), WEEK)
    assert (a1.population.people, a1.population.bound, a1.population.pledged) == (4, 3, 2)
    assert a1.checkin_days == 9 and a1.reports.count == 1 and a1.reports.urgent == 1
    b = await compute_figures(app.store, app.config, 1, Scope(college="B"), WEEK)
    assert (b.population.people, b.population.passed, b.reports.count, b.last_year.count) == (2, 1, 1, 1)
    assert b.quizzes == 0 and b.quiz_average is None


async def test_double_decrease_is_stated_plainly(app, school, clock):
    sec = chat(app, "SEC")
    await sec.say("/stats week")
    body = sec.text
    assert "2026-11-17 至 2026-11-23（7 天）" in body
    assert "人数 8 · 已绑定 5（62.5%）" in body
    assert "承诺书覆盖率 37.5%（3 人）" in body
    assert "打卡率 28.6%" in body
    assert "知晓率（测试通过）25.0%（2 人）" in body
    assert "测试平均分 75.0（2 次）" in body
    assert "举报 3 件（紧急 1）· 报告损失 ¥6,000" in body
    assert "受理用时中位数 7 分钟" in body
    assert "刷单" in body
    assert "案件 4 → 3（↓1）" in body and "¥10,000 → ¥6,000（↓¥4,000）" in body
    assert "案件 2 → 3（↑1）" in body and "¥3,000 → ¥6,000（↑¥3,000）" in body
    assert "案件下降？否 · 金额下降？否 → ❌ 未实现双降" in body
    await sec.say("/stats A week")
    assert "· A ·" in sec.text and "案件 1 → 2（↑1）" in sec.text


async def test_double_decrease_achieved(app, school):
    await report(app, "R-L9", local(2025, 11, 20), "loan", 50000, college="B")
    await report(app, "R-L8", local(2025, 11, 21), "loan", 0, college="B")
    f = await compute_figures(app.store, app.config, 1, Scope(), WEEK)
    assert (f.last_year.count, f.last_year.money) == (4, 53000)
    assert f.cases_down and f.money_down and f.double_decrease
    sec = chat(app, "SEC")
    await sec.say("/stats week")
    assert "案件下降？是 ↓ · 金额下降？是 ↓ → ✅ 实现双降" in sec.text


async def test_bad_arguments_get_usage_and_change_nothing(app, school):
    sec = chat(app, "SEC")
    await sec.say("/stats 火星学院")
    assert "看不懂「火星学院」" in sec.text


async def test_nothing_this_year_and_nothing_last_year_is_no_failure(app, school):
    sec = chat(app, "SEC")
    await sec.say("/stats A2 2026-11-01..2026-11-05")
    assert "案件下降？持平 · 金额下降？持平 → ➖ 持平：今年和去年同期均无案件" in sec.text and "❌" not in sec.text
    f = await compute_figures(app.store, app.config, 1, Scope(class_id=school["a2"]), Period(date(2026, 11, 1),
                                                                                          date(2026, 11, 5)))
    assert f.verdict == "none" and not f.double_decrease


async def test_a_first_year_compares_with_the_offices_baseline_and_says_so(app, school):
    from storage.baselines import Baseline

    # The database's records begin 2026-11-23; nothing of 2025-09 is in it. The police said: school 6 cases,
    # 30,000 yuan in September 2025 (30 days); college B 1 case, 0 yuan.
    await app.store.baselines.set(Baseline("", "2025-09-01", "2025-09-30", 6, 30000, "派出所通报"))
    await app.store.baselines.set(Baseline("B", "2025-09-01", "2025-09-30", 1, 0, "派出所通报"))
    sec = chat(app, "SEC")
    await sec.say("/stats 2026-09")
    body = sec.text
    assert "案件 6 → 0（↓6）" in body and "¥30,000 → ¥0（↓¥30,000）" in body
    assert "基线：派出所通报，2025-09-01..2025-09-30，覆盖 30/30 天" in body and "折算" not in body
    assert "✅ 实现双降" in body
    await sec.say("/stats 2026-09-01..2026-09-10")            # a third of the baseline's days
    assert "案件 2 → 0（↓2）" in sec.text and "¥10,000 → ¥0" in sec.text and "按天数折算" in sec.text
    await sec.say("/stats B 2026-09")
    assert "案件 1 → 0（↓1）" in sec.text and "¥0 → ¥0" in sec.text and "未实现双降" in sec.text
    await sec.say("/stats A 2026-09")                          # no baseline for A: plainly nothing to compare
    assert "基线" not in sec.text and "均无案件" in sec.text


async def test_stats_understands_calendar_words_and_the_configured_terms(app, school):
    app.config.terms.dates = ["2026春 2026-02-23..2026-07-10", "2026秋 2026-09-07..2027-01-15"]
    sec = chat(app, "SEC")
    for words, span in (("本学期", "2026-09-07 至 2026-11-23"), ("this term", "2026-09-07 至 2026-11-23"),
                        ("上学期", "2026-02-23 至 2026-07-10"), ("last-term", "2026-02-23 至 2026-07-10"),
                        ("本月", "2026-11-01 至 2026-11-23"), ("上月", "2026-10-01 至 2026-10-31"),
                        ("本周", "2026-11-23 至 2026-11-23"), ("last week", "2026-11-16 至 2026-11-22"),
                        ("今年", "2026-01-01 至 2026-11-23"), ("去年", "2025-01-01 至 2025-12-31"),
                        ("2026春", "2026-02-23 至 2026-07-10")):
        await sec.say(f"/stats {words}")
        assert span in sec.text, words


def test_periods():
    today = date(2026, 11, 23)
    assert parse_period("week", today) == Period(date(2026, 11, 17), today)
    assert parse_period("2026-09-01..2026-11-23", today) == Period(date(2026, 9, 1), today)
    assert parse_period("2026-10", today) == Period(date(2026, 10, 1), date(2026, 10, 31))
    assert parse_period("2026-11", today) == Period(date(2026, 11, 1), today)
    assert parse_period("2026-11-30..2026-11-01", today) is None
    assert parse_period("nonsense", today) is None
    assert parse_period("term", today) is None                   # no terms configured: not a guessed 120 days
    terms = [("2026春", date(2026, 2, 23), date(2026, 7, 10))]
    assert parse_period("本学期", date(2026, 8, 1), terms) is None      # the summer is no term
    assert parse_period("上学期", date(2026, 8, 1), terms) == Period(date(2026, 2, 23), date(2026, 7, 10))
    leap = Period(date(2028, 2, 29), date(2028, 3, 6))
    assert leap.last_year() == Period(date(2027, 2, 28), date(2027, 3, 6))
    assert WEEK.previous() == Period(date(2026, 11, 10), date(2026, 11, 16))


async def test_an_urgent_case_counts_from_the_moment_it_is_escalated(app, demo_class, user_factory):
    """A case escalated before its form is finished is already a case in the figures."""
    victim = user_factory("urgent-victim")
    await victim.bind(demo_class.join_code, "2023190")
    await victim.say("/report")
    await victim.press("rep:money:money")
    row = await app.store.db.fetchone("SELECT case_no, submitted_at, form_complete FROM reports")
    assert row["case_no"] and row["submitted_at"] and not row["form_complete"]
    app.config.roles.security.append("S0190")
    officer = user_factory("officer-190")
    await officer.bind(demo_class.join_code, "S0190")
    await officer.bind_invited("S0190")            # the class code gave student rights; the invite the office's
    await officer.say("/stats")
    assert "举报 1 件（紧急 1）" in officer.text


async def test_the_office_enters_and_lists_baselines_in_the_chat(app, school):
    sec = chat(app, "SEC")
    await sec.say("/baseline")
    assert "还没有录入基线" in sec.text
    await sec.say("/baseline 火星学院 2025-09-01..2025-09-30 1 100")
    assert "没有“火星学院”这个学院" in sec.text
    assert await app.store.baselines.all() == []
    await sec.say("/baseline 全校 2025-09-01..2025-09-30 6 3万 派出所通报")
    assert "已录入基线" in sec.text and "¥30,000" in sec.text
    await sec.say("/baseline B 2025-09-01..2025-09-30 -1 0")
    assert "整数" in sec.text
    await sec.say("/baseline")
    assert "全校 2025-09-01..2025-09-30：案件 6 件，损失 ¥30,000（派出所通报）" in sec.text
    await sec.say("/stats 2026-09")
    assert "案件 6 → 0" in sec.text and "基线" in sec.text
    assert await app.store.audit.recent(5, "baseline.set")
    student = chat(app, "S1")
    await student.say("/baseline 全校 2025-09-01..2025-09-30 0 0")
    assert len(await app.store.baselines.all()) == 1
