"""The roster page's invites (the chat's /invite code) and its rejection reasons in both languages."""

from __future__ import annotations

import re

import aiohttp

from tests.console_web_support import browser_signed_in, chromium, client_signed_in, console_server
from tests.support import User
from tests.test_console_web import office  # noqa: F401  (the fixture, shared)


async def test_an_admin_makes_a_privileged_invite_that_binds_with_its_role(app, office):  # noqa: F811
    await app.store.db.execute("UPDATE people SET role = 'security' WHERE person_no = 'T100'")   # the new officer
    async with console_server(app) as base, chromium() as browser:
        page = await browser_signed_in(browser, app, office["admin"].person_id)
        await page.goto(f"{base}/console/roster")
        await page.fill("form[action$='/invite'] input[name=number]", "T100")
        await page.click("form[action$='/invite'] button")
        shown = await page.inner_text("#invite")
        code = re.search(r"邀请码：([A-Z0-9]{12})", shown).group(1)
        assert "只能使用一次" in shown
        await page.fill("form[action$='/invite'] input[name=number]", "NOBODY")
        await page.click("form[action$='/invite'] button")
        assert "名单中没有 NOBODY" in await page.inner_text("#invite")
        assert await page.locator(".flash", has_text=code).count() == 0     # shown once, not kept
    audited = await app.store.db.fetchall(
        "SELECT actor_person_id, target FROM audit_log WHERE action = 'identity.invite_created'")
    assert [tuple(row) for row in audited] == [(office["admin"].person_id, f"#{office['counsellor'].person_id}")]
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM console_sessions WHERE flash IS NOT NULL") == 0

    newcomer = User(app, "new-officer")
    await newcomer.say("/start")
    await newcomer.press("lang:zh")
    await newcomer.say(code)
    account = await app.store.accounts.find("test", "new-officer")
    assert account.person_id == office["counsellor"].person_id and account.proof == "invite"


async def test_invites_are_for_the_office_and_admins_only_and_reasons_come_in_english(app, office):  # noqa: F811
    async with console_server(app) as base:
        client, csrf = await client_signed_in(app, base, office["counsellor"].person_id)
        async with client:
            async with client.post(f"{base}/console/roster/invite", data={"number": "2023001", "csrf": csrf},
                                   allow_redirects=False) as response:
                assert response.status == 403
        client, csrf = await client_signed_in(app, base, office["officer"].person_id)
        async with client:
            async with client.post(f"{base}/console/lang", data={"lang": "en", "csrf": csrf}):
                pass
            roster = "number,college,class,role,tags\n,计算机学院,计科2401,student,\n2024009,计算机学院,计科2401,wizard,\n"
            form = aiohttp.FormData()
            form.add_field("csrf", csrf)
            form.add_field("file", roster.encode(), filename="roster.csv", content_type="text/csv")
            async with client.post(f"{base}/console/roster/preview", data=form) as response:
                body = await response.text()
    assert "The number is empty." in body and "Role “wizard” is not one of" in body
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action = 'identity.invite_created'") == 0
