"""The 倒查 review in the console: the chat's save path and closing rule, the 待倒查 filter, the timeline."""

from __future__ import annotations

from tests.console_web_support import browser_signed_in, chromium, client_signed_in, console_server
from tests.test_console_web import office, urgent_case  # noqa: F401  (the fixture, shared)
from tests.test_report_flow import cards


async def flagged(app, student) -> str:
    """An urgent case whose loss reached the review threshold."""
    case_no = await urgent_case(student)
    report = await app.store.reports.by_case_no(case_no)
    await app.store.reports.update(report["id"], amount_yuan=8000, flagged_review=1)
    return case_no


async def test_a_review_is_entered_in_the_page_and_the_case_then_closes_as_in_chat(app, office):  # noqa: F811
    officer = office["officer"]
    case_no = await flagged(app, office["student"])
    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, officer.person_id)
        await page.goto(f"{base}/console/cases?review=1")
        assert await page.locator(f"tr[data-case='{case_no}'] .tag").inner_text() == "倒查"
        await page.goto(f"{base}/console/cases/{case_no}")
        await page.fill("form[action$='/resolve'] textarea", "已止付")
        await page.click("form[action$='/resolve'] button")
        assert "须先完成倒查记录" in await page.inner_text(".flash")     # the chat's own rule and words
        assert (await app.store.reports.by_case_no(case_no))["status"] != "resolved"

        await page.fill("#review input[name=interviewed_on]", "2026-11-20")
        await page.fill("#review textarea[name=findings]", "预警推送未送达该生")
        await page.fill("#review textarea[name=responsibility]", "班主任负有宣传不到位责任")
        await page.fill("#review textarea[name=follow_up]", "已安排心理疏导")
        await page.click("#review button")
        assert "倒查记录已保存" in await page.inner_text(".flash")
        assert await page.locator("#review").count() == 0                 # written once: no form any more
        shown = await page.inner_text("dl.review")
        assert "张警官" in shown and "预警推送未送达该生" in shown and "2026-11-20" in shown
        timeline = await page.inner_text(".timeline")
        assert "完成倒查记录" in timeline and "班主任负有宣传不到位责任" in timeline

        assert "已完成倒查记录" in (await cards(app))[-1].text              # the security channel's card too
        await page.goto(f"{base}/console/cases?review=1")
        assert await page.locator(f"tr[data-case='{case_no}']").count() == 0   # 待倒查 follows the record
        await page.goto(f"{base}/console/cases")
        assert await page.locator(f"tr[data-case='{case_no}'] .tag").count() == 0
        await officer.say(f"review {case_no}")
        assert "已有倒查记录" in officer.text and "张警官" in officer.text

        await page.goto(f"{base}/console/cases/{case_no}")
        await page.fill("form[action$='/resolve'] textarea", "已止付")
        await page.click("form[action$='/resolve'] button")
        assert "已结案" in await page.inner_text(".flash")
    review = await app.store.reports.review((await app.store.reports.by_case_no(case_no))["id"])
    assert review.reviewer_id == officer.person_id and review.follow_up == "已安排心理疏导"
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'report.review'") == 1


async def test_a_bad_or_incomplete_or_outside_review_changes_nothing(app, office):  # noqa: F811
    case_no = await flagged(app, office["student"])
    good = {"interviewed_on": "2026-11-20", "findings": "a", "responsibility": "b", "follow_up": "c"}
    async with console_server(app) as base:
        client, csrf = await client_signed_in(app, base, office["officer"].person_id)
        async with client:
            for bad, said in (({"interviewed_on": "2099-01-01"}, "不是日期"), ({"findings": " "}, "四项都要填写")):
                async with client.post(f"{base}/console/cases/{case_no}/review",
                                       data={**good, **bad, "csrf": csrf}) as response:
                    assert response.status == 200 and said in await response.text()
        admin, admin_csrf = await client_signed_in(app, base, office["admin"].person_id)
        async with admin:
            async with admin.post(f"{base}/console/cases/{case_no}/review",
                                  data={**good, "csrf": admin_csrf}) as response:
                assert response.status == 403
    assert await app.store.reports.review((await app.store.reports.by_case_no(case_no))["id"]) is None


async def test_a_review_entered_in_chat_shows_in_the_page(app, office):  # noqa: F811
    officer = office["officer"]
    case_no = await flagged(app, office["student"])
    await officer.press(f"rev:start:{case_no}")
    await officer.press("rev:today")
    for answer in ("未核实来电身份", "本人未核实", "协助报警"):
        await officer.say(answer)
    async with console_server(app) as base:
        client, _ = await client_signed_in(app, base, officer.person_id)
        async with client:
            async with client.get(f"{base}/console/cases/{case_no}") as response:
                body = await response.text()
    assert "未核实来电身份" in body and 'id="review"' not in body and "完成倒查记录" in body
