"""The office console in a real headless chromium against the real server: sign-in, roles, CSRF, XSS, live cases."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from bot.events import Incoming, Kind
from handlers.console.links import issue_link
from tests.console_web_support import browser_signed_in, chromium, client_signed_in, console_server, tiny_png
from tests.office_support import add_person
from tests.test_report_flow import buttons, cards, make_person, security_channel

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


@pytest.fixture
async def office(app, demo_class):
    """A student, the class's monitor and counsellor, a security officer and an admin, each bound in chat."""
    security_channel(app)
    people = {
        "student": await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college),
        "monitor": await make_person(app, "2023100", role="monitor", class_id=demo_class.id,
                                     college=demo_class.college),
        "counsellor": await make_person(app, "T100", role="counsellor", college=demo_class.college, name="王老师"),
        "officer": await make_person(app, "S001", role="security", college="保卫处", name="张警官"),
        "admin": await make_person(app, "A001", role="admin", college="信息中心"),
    }
    for leader in ("monitor", "counsellor"):
        await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)",
                                   (people[leader].person_id, demo_class.id))
    return people


async def urgent_case(student) -> str:
    """An urgent report (money gone), form left open: the card is already with the office."""
    await student.say("/report")
    await student.press("rep:money:money")
    return "R-2026-000001"


# --- sign-in ------------------------------------------------------------------------------------------
async def test_a_link_signs_in_once_and_not_after_ten_minutes_and_sessions_end(app, clock, office):
    officer = office["officer"]
    async with console_server(app) as base, chromium() as browser:
        link = await issue_link(app.services, officer.person_id)
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(link)                         # a link preview fetching this uses nothing
        await page.goto(link)
        await page.click("button.primary")
        assert page.url == f"{base}/console/cases"
        assert "张警官" in await page.inner_text("header")
        cookie = next(c for c in await context.cookies() if c["name"] == "wuzha_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
        assert cookie["value"] not in (await app.store.db.fetchval("SELECT token_hash FROM console_sessions"))

        other = await browser.new_context()            # the same link again, elsewhere: refused
        stranger = await other.new_page()
        await stranger.goto(link)
        response_status = []
        stranger.on("response", lambda r: response_status.append(r.status))
        await stranger.click("button.primary")
        assert "已用过" in await stranger.inner_text("main") and 403 in response_status
        await stranger.goto(f"{base}/console/cases")
        assert stranger.url.startswith(f"{base}/console/login")

        late = await issue_link(app.services, officer.person_id)
        clock.advance(minutes=11)
        await stranger.goto(late)
        await stranger.click("button.primary")
        assert "已过期" in await stranger.inner_text("main")

        clock.advance(minutes=20)                      # 31 minutes idle: the first session is gone
        await page.goto(f"{base}/console/cases")
        assert page.url.startswith(f"{base}/console/login")

        page = await browser_signed_in(browser, app, officer.person_id)
        await page.click("header form[action='/console/logout'] button")
        await page.goto(f"{base}/console/cases")
        assert page.url.startswith(f"{base}/console/login")
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM console_sessions") == 0


async def test_console_in_chat_sends_a_link_privately_and_only_to_console_roles(app, office):
    officer, student = office["officer"], office["student"]
    await officer.say("/console")
    assert re.search(r"http://127\.0\.0\.1:\d+/console/login\?token=[\w-]{40,}", officer.text)
    await student.say("/console")
    assert "/console/login" not in student.text
    in_group = await app.handle(Incoming("test", officer.key, "group-1", Kind.TEXT, "/console", is_group=True))
    assert "私聊" in in_group[0].text and "token=" not in in_group[0].text
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM console_links") == 1


async def test_the_english_switch_and_the_phone_layout(app, office):
    async with console_server(app), chromium() as browser:
        page = await browser_signed_in(browser, app, office["counsellor"].person_id)
        await page.set_viewport_size({"width": 390, "height": 800})
        assert "我的班级" in await page.inner_text("h1")
        await page.click("header form[action='/console/lang'] button")
        assert "My classes" in await page.inner_text("h1")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390                            # nothing wider than the phone outside the scrolling tables
        officer = await browser_signed_in(browser, app, office["officer"].person_id)
        await officer.set_viewport_size({"width": 390, "height": 800})
        await officer.click("header form[action='/console/lang'] button")    # English: the longest type names
        assert await officer.evaluate("document.documentElement.scrollWidth") <= 390


# --- roles ------------------------------------------------------------------------------------------------
PAGES = ("/console/cases", "/console/cases/R-2026-000001", "/console/figures", "/console/warnings",
         "/console/classes", "/console/roster", "/console/ledger", "/console/audit")
MAY_OPEN = {
    "officer": set(PAGES),
    "admin": {"/console/roster", "/console/ledger", "/console/audit"},
    "counsellor": {"/console/classes"},
    "monitor": {"/console/classes"},
}


async def test_each_page_as_each_role_and_nothing_changes_outside_it(app, office):
    case_no = await urgent_case(office["student"])
    async with console_server(app) as base:
        for who, allowed in MAY_OPEN.items():
            client, csrf = await client_signed_in(app, base, office[who].person_id)
            async with client:
                for path in PAGES:
                    async with client.get(base + path, allow_redirects=False) as response:
                        assert response.status == (200 if path in allowed else 403), (who, path)
                        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
                        if path == f"/console/cases/{case_no}" and path not in allowed:
                            assert "冒充" not in await response.text()
                if who != "officer":
                    async with client.post(f"{base}/console/warnings/publish", data={
                            "csrf": csrf, "body": "这是一条测试预警，请注意防范", "audience": "all"},
                            allow_redirects=False) as r:
                        assert r.status == 403
                    for action in ("ack", "resolve", "reply"):
                        async with client.post(f"{base}/console/cases/{case_no}/{action}",
                                               data={"csrf": csrf, "note": "x"}, allow_redirects=False) as r:
                            assert r.status == 403
                if who in ("officer", "admin"):   # /remind is the class leaders' alone
                    async with client.post(f"{base}/console/classes/remind", data={
                            "csrf": csrf, "item": "pledge", "class_id": "1"}, allow_redirects=False) as r:
                        assert r.status == 403
        async with client_signed_in_refused(app, base, office["student"].person_id) as status:
            assert status == 403
    report = await app.store.reports.by_case_no(case_no)
    assert report["status"] == "received" and report["office_message"] is None
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign LIKE 'remind:%'") == 0
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM office_warnings") == 0
    refused = await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'console.refused'")
    assert refused >= 10


class client_signed_in_refused:
    """Try to sign a person in; the status of the attempt."""

    def __init__(self, app, base, person_id):
        self.app, self.base, self.person_id = app, base, person_id

    async def __aenter__(self):
        import aiohttp

        token = (await issue_link(self.app.services, self.person_id)).split("token=", 1)[1]
        async with aiohttp.ClientSession() as client, client.post(
                f"{self.base}/console/login", data={"token": token}, allow_redirects=False) as response:
            return response.status

    async def __aexit__(self, *exc):
        return False


async def test_a_form_without_the_session_csrf_token_is_refused(app, office):
    case_no = await urgent_case(office["student"])
    async with console_server(app) as base:
        client, csrf = await client_signed_in(app, base, office["officer"].person_id)
        async with client:
            for data in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
                async with client.post(f"{base}/console/cases/{case_no}/ack", data=data,
                                       allow_redirects=False) as response:
                    assert response.status == 403
            other, other_csrf = await client_signed_in(app, base, office["officer"].person_id)
            await other.close()
            async with client.post(f"{base}/console/cases/{case_no}/ack", data={"csrf": other_csrf},
                                   allow_redirects=False) as response:
                assert response.status == 403        # another session's token is no good either
            assert (await app.store.reports.by_case_no(case_no))["status"] == "received"
            async with client.post(f"{base}/console/cases/{case_no}/ack", data={"csrf": csrf},
                                   allow_redirects=False) as response:
                assert response.status == 303
    assert (await app.store.reports.by_case_no(case_no))["status"] == "acknowledged"


async def test_the_list_shows_time_since_report_and_since_the_last_escalation_and_filters(app, clock, office):
    from handlers.report_escalation import run_escalations

    case_no = await urgent_case(office["student"])
    clock.advance(minutes=app.config.reports.urgent_ack_minutes)
    await run_escalations(app.services)                        # the card goes out again, duty officers paged
    clock.advance(minutes=3)
    async with console_server(app) as base:
        client, _ = await client_signed_in(app, base, office["officer"].person_id)
        async with client:
            async with client.get(f"{base}/console/cases?rows=1") as response:
                row = await response.text()
            assert case_no in row and "8 分钟" in row and "3 分钟 ×1" in row
            for query, shown in (("status=resolved", False), ("min_amount=1", False), ("review=1", False),
                                 ("college=计算机学院", True), ("type=other", True), ("min_amount=abc", True)):
                async with client.get(f"{base}/console/cases?rows=1&{query}") as response:
                    assert (case_no in await response.text()) is shown, query


# --- what a student typed is shown, never run ---------------------------------------------------------------
async def test_every_field_a_student_types_is_rendered_inert(app, office):
    student = office["student"]
    await student.say("/report")
    await student.press("rep:money:money")
    await student.say("有人冒充客服 " + XSS)
    await student.press(buttons(student)[0])
    await student.say("昨晚 " + XSS)                           # when, in their own words
    await student.say("一个网站 " + XSS)                        # contact, in their own words
    await student.say("13800138000 https://evil.example/" + XSS)
    await student.press("rep:done")
    await student.say("3500")
    await student.say("游戏币 " + XSS)                          # payment, in their own words
    await student.send_file(tiny_png(), '"><svg onload=alert(1)>.png')
    await student.press("rep:done")
    await student.press("rep:submit")
    report = await app.store.reports.by_case_no("R-2026-000001")
    typed = [report[f] for f in ("description", "happened_at", "contact_method", "payment_method")]
    assert all("onerror" in (value or "") for value in typed), typed
    async with console_server(app), chromium() as browser:
        page = await browser_signed_in(browser, app, office["officer"].person_id)
        await page.goto(page.url.rsplit("/", 1)[0] + "/cases/R-2026-000001")
        shown = await page.inner_text("main")
        assert shown.count("<script>window.__xss=1</script>") >= 4
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("main script, main img[src='x']").count() == 0
        photo = await page.request.get(await page.evaluate("document.querySelector('.evidence img').src"))
        assert photo.headers["content-type"] == "image/png" and "sandbox" in photo.headers["content-security-policy"]
        width = await page.evaluate("document.querySelector('.evidence img').naturalWidth")
        assert width == 8                                       # the evidence photo is drawn in the page
        await page.goto(page.url.rsplit("/", 1)[0])
        assert await page.evaluate("window.__xss") is None
    views = await app.store.db.fetchval(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'report.view' AND target = 'R-2026-000001'")
    assert views == 1
    # the photo drawn in the page and the direct fetch above: each opening of a file is audited
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'report.evidence'") == 2


async def test_without_javascript_the_list_refreshes_itself_and_its_forms_work(app, clock, office):
    case_no = await urgent_case(office["student"])
    async with console_server(app) as base, chromium() as browser:
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await page.goto(await issue_link(app.services, office["officer"].person_id))
        await page.click("button.primary")
        refresh = await page.get_attribute("noscript meta", "content")
        assert refresh.startswith("10;url=") and "auto=1" in refresh
        await page.click(f"tr[data-case='{case_no}'] button")
        assert "已受理" in await page.inner_text(".flash")
        assert page.url == f"{base}/console/cases"
        listed = await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'report.list'")
        await page.goto(f"{base}/console/cases?auto=1")
        assert await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'report.list'") == listed
    assert (await app.store.reports.by_case_no(case_no))["status"] == "acknowledged"


# --- the page and the chat are one office ------------------------------------------------------------------
async def test_acknowledged_in_the_page_shows_in_chat_and_the_reverse_shows_live(app, office, demo_class):
    student, officer = office["student"], office["officer"]
    case_no = await urgent_case(student)
    classmate = await make_person(app, "2023002", class_id=demo_class.id, college=demo_class.college)
    await urgent_case(classmate)
    second = "R-2026-000002"
    async with console_server(app), chromium() as browser:
        page = await browser_signed_in(browser, app, officer.person_id)
        assert await page.locator(f"tr[data-case='{case_no}'] td.status").inner_text() == "已收到"
        await page.goto(page.url + f"/{case_no}")
        await page.click("#ack")
        assert "已受理" in await page.inner_text(".flash")
        await officer.say("/reports")
        assert re.search(rf"{case_no}.*已受理", officer.text)
        card = (await cards(app))[-1]
        assert card.ref == f"card:{case_no}" and "张警官" in card.text

        await page.goto(page.url.rsplit("/", 1)[0])
        row = page.locator(f"tr[data-case='{second}'] td.status")
        assert await row.inner_text() == "已收到"
        await officer.say(f"受理 {second}")
        await expect(row).to_have_text("已受理", timeout=10_000)   # no reload: the page refreshed itself

        await page.goto(page.url + f"/{second}")
        await page.select_option("select[name=person]", str(officer.person_id))
        await page.click("form[action$='/assign'] button")
        await page.fill("form[action$='/reply'] textarea", "已联系银行，请保持电话畅通")
        await page.click("form[action$='/reply'] button")
        await page.fill("form[action$='/resolve'] textarea", "已止付")
        await page.click("form[action$='/resolve'] button")
        assert "已结案" in await page.inner_text(".flash")
        timeline = await page.inner_text(".timeline")
        assert "已止付" in timeline and "已联系银行" in timeline
    report = await app.store.reports.by_case_no(second)
    assert report["status"] == "resolved" and report["assigned_to"] == officer.person_id
    await classmate.say("/myreports")
    assert "已联系银行" in classmate.text


# --- classes, figures, ledger, audit -------------------------------------------------------------------------
async def test_a_counsellor_sees_their_class_and_reminds_by_remind_rules(app, office, demo_class):
    other_class = await app.store.classes.ensure("会计2302", "经管学院")
    await add_person(app, "2023900", other_class, "经管学院")
    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, office["counsellor"].person_id)
        assert page.url == f"{base}/console/classes"
        body = await page.inner_text("main")
        assert "计科2301" in body and "会计2302" not in body and "2023001" in body
        await page.goto(f"{base}/console/classes?class={other_class}")
        assert "2023900" not in await page.inner_text("main")
        await page.goto(f"{base}/console/classes")
        await page.click("button[name=item][value=pledge]")
        assert "提醒" in await page.inner_text(".flash")
        await page.click("button[name=item][value=pledge]")
    queued = await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign LIKE 'remind:pledge:%'")
    assert queued == 2                      # the student and the monitor, once each in the day


async def test_the_figures_are_the_stats_numbers_and_the_ledger_downloads(app, office):
    officer = office["officer"]
    await urgent_case(office["student"])
    await officer.say("/stats term")
    chat_people = re.search(r"人数 (\d+)", officer.text).group(1)
    chat_reports = re.search(r"举报 (\d+) 件（紧急 (\d+)）", officer.text).groups()
    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, officer.person_id)
        await page.goto(f"{base}/console/figures?period=term")
        text = await page.inner_text("main")
        assert f"在册 {chat_people} 人" in text
        assert "本期 {} 件（紧急 {}）".format(*chat_reports) in text and chat_reports == ("1", "1")
        assert await page.locator("svg.bars rect.bar").count() >= 8
        await page.goto(f"{base}/console/ledger")
        async with page.expect_download() as download_info:
            await page.click("button.primary")
        download = await download_info.value
        assert download.suggested_filename.endswith(".xlsx")
        assert (await download.path()).read_bytes()[:2] == b"PK"
        await page.goto(f"{base}/console/audit?action=export.ledger")
        assert "export.ledger" in await page.inner_text("tbody")


async def test_a_warning_is_previewed_with_its_count_in_both_languages_then_published(app, office):
    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, office["officer"].person_id)
        await page.goto(f"{base}/console/warnings")
        case_id = app.services.library.all_cases()[0].id
        case = app.services.library.case_by_id(case_id)
        await page.select_option("select[name=case_id]", case_id)
        await page.select_option("select[name=audience]", "all")
        await page.click("form[action$='/preview'] button")
        preview = await page.inner_text("#preview")
        assert "共 5 人，可送达 5 人" in preview
        assert case.text("zh").title in preview and case.text("en").title in preview
        assert await app.store.db.fetchval("SELECT COUNT(*) FROM office_warnings") == 0
        await page.click("#publish")
        progress = await page.inner_text("#progress")
        assert "送达情况：已发送 0，排队中 5" in progress         # /warn's own delivery figures
    rows = await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign = 'officewarn:1'")
    assert rows == 5
    audit = await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'warn.publish'")
    assert audit == 1


ROSTER = """学号,姓名,学院,班级,身份
2024001,陈一,计算机学院,计科2401,学生
2024002,,计算机学院,,学生
2024003,林三,计算机学院,计科2401,保卫处
S001,张警官,保卫处,,学生
2024001,陈一,计算机学院,计科2401,学生
2024004,<b>赵四</b>,计算机学院,计科2401,班长
"""


async def test_a_roster_upload_is_checked_line_by_line_and_imported_only_when_confirmed(app, office, tmp_path):
    from openpyxl import Workbook

    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, office["admin"].person_id)
        await page.goto(f"{base}/console/roster")
        csv_file = tmp_path / "名册.csv"
        csv_file.write_bytes(ROSTER.encode("gbk"))                      # as Excel on Chinese Windows saves it
        await page.set_input_files("input[type=file]", str(csv_file))
        await page.click("form[action$='/preview'] button")
        rejected = await page.inner_text("#rejected tbody")
        lines = [row.split("\t")[0] for row in rejected.splitlines()]
        assert lines == ["3", "4", "5", "6"]
        assert "班级为空" in rejected and "保卫处和管理员身份" in rejected and "已在第 2 行出现过" in rejected
        accepted = await page.inner_text("#accepted tbody")
        assert "2024001" in accepted and "<b>赵四</b>" in accepted        # shown as typed, not as markup
        assert await app.store.people.by_number("2024001") is None       # nothing imported yet
        await page.click("#import")
        assert "新增 2 人" in await page.inner_text(".flash")

        book = Workbook()
        sheet = book.active
        sheet.append(["person id", "name", "college", "class", "role"])
        sheet.append(["2024010", "Amy", "外国语学院", "英语2401", "student"])
        sheet.append(["2024011", "Ben", "外国语学院", "英语2401", "admin"])
        xlsx = tmp_path / "roster.xlsx"
        book.save(xlsx)
        await page.set_input_files("input[type=file]", str(xlsx))
        await page.click("form[action$='/preview'] button")
        assert await page.inner_text("#rejected tbody td.num") == "3"
        await page.click("#import")
        assert "新增 1 人" in await page.inner_text(".flash")
    assert (await app.store.people.by_number("2024004")).role == "monitor"
    assert (await app.store.people.by_number("S001")).role == "security"
    assert await app.store.people.by_number("2024011") is None
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'roster.import'") == 2
