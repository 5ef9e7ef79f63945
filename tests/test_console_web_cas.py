"""Console sign-in through the school's CAS (the fake CAS server on 127.0.0.1): success and every failure."""

from __future__ import annotations

import aiohttp
import pytest

from bot.config import ConfigError, load_config
from tests.console_web_support import chromium, console_server
from tests.fakes.cas import FakeCas
from tests.test_console_web import office  # noqa: F401  (the fixture, shared)


@pytest.fixture
async def cas():
    """The fake CAS server."""
    server = await FakeCas().start()
    yield server
    await server.stop()


def use_cas(app, cas, base: str) -> None:
    """Switch [identity.cas] on, the way back being this console server."""
    app.config.identity.cas.server_url = cas.base
    app.config.identity.cas.public_url = base


async def test_console_login_goes_through_cas_and_signs_the_officer_in(app, cas, office):  # noqa: F811
    async with console_server(app) as base, chromium() as browser:
        use_cas(app, cas, base)
        cas.user = "S001"                                   # the officer's number
        page = await (await browser.new_context()).new_page()
        await page.goto(f"{base}/console/cases")            # not signed in: sign-in, CAS, and back
        assert page.url == f"{base}/console/cases"
        assert "张警官" in await page.inner_text("header")
        assert cas.validations[-1]["path"] == "/cas/p3/serviceValidate"
        assert cas.validations[-1]["service"].startswith(f"{base}/console/cas?s=")

        await page.click("header form[action='/console/logout'] button")
        assert page.url == f"{base}/console/login?out=1"    # signed out stays out, CAS only on request
        await page.click("#cas")
        assert page.url == f"{base}/console/cases"
    signed_in = await app.store.db.fetchval(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'console.sign_in' AND actor_person_id = ?",
        (office["officer"].person_id,))
    assert signed_in == 2


async def leave_for_cas(client: aiohttp.ClientSession, base: str) -> str:
    """Follow /console/login to the fake CAS by hand; the URL CAS sends the browser back to, with a ticket."""
    async with client.get(f"{base}/console/login", allow_redirects=False) as response:
        assert response.status == 302
        to_cas = response.headers["Location"]
    async with client.get(to_cas, allow_redirects=False) as response:
        return response.headers["Location"]


async def test_every_cas_failure_gets_a_clear_page_and_no_session(app, cas, office):  # noqa: F811
    async with console_server(app) as base:
        use_cas(app, cas, base)

        async def back(client, url) -> tuple[int, str]:
            async with client.get(url, allow_redirects=False) as response:
                return response.status, await response.text()

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            cas.user = "S001"
            used = await leave_for_cas(client, base)
            assert (await back(client, used))[0] == 303     # signed in
            fresh = await leave_for_cas(client, base)       # a new state cookie, the old ticket again
            replay = fresh.split("&ticket=")[0] + "&ticket=" + used.split("ticket=")[1]
            status, body = await back(client, replay)
            assert status == 403 and "没有确认这次登录" in body

        for user, status_code, said in (("X999", 403, "不在本系统名单"), ("2023001", 403, "没有管理台权限")):
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
                cas.user = user
                status, body = await back(client, await leave_for_cas(client, base))
                assert (status, said in body) == (status_code, True), user

        cas.user = "S001"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            url = await leave_for_cas(client, base)
        async with aiohttp.ClientSession() as elsewhere:    # a ticket URL sent to another browser (login CSRF)
            status, body = await back(elsewhere, url)
            assert status == 400 and "不是从本浏览器发起" in body

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            cas.answer_override = "<not xml"
            status, body = await back(client, await leave_for_cas(client, base))
            assert status == 502 and "无法识别" in body
            cas.answer_override = None
            url = await leave_for_cas(client, base)
            app.config.identity.cas.server_url = "http://127.0.0.1:9"     # nothing listens there
            status, body = await back(client, url)
            assert status == 502 and "连不上" in body
    sessions = await app.store.db.fetchval("SELECT COUNT(*) FROM console_sessions")
    assert sessions == 1                                    # only the first, good sign-in


async def test_without_cas_the_sign_in_page_stays_and_the_way_back_does_not_exist(app, office):  # noqa: F811
    async with console_server(app) as base, aiohttp.ClientSession() as client:
        async with client.get(f"{base}/console/login", allow_redirects=False) as response:
            assert response.status == 200 and "/console" in await response.text()
        async with client.get(f"{base}/console/cas?s=x&ticket=ST-1", allow_redirects=False) as response:
            assert response.status == 404


def test_the_cas_service_url_defaults_to_server_public_url(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[server]\npublic_url = "https://wuzha.example.edu.cn"\n'
                    '[identity.cas]\nserver_url = "https://cas.example.edu.cn/cas"\n', encoding="utf-8")
    assert load_config(path, env={}, base_dir=tmp_path).identity.cas.public_url == "https://wuzha.example.edu.cn"
    path.write_text('[identity.cas]\nserver_url = "https://cas.example.edu.cn/cas"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.public_url: must be set when identity\.cas\.server_url is set"):
        load_config(path, env={}, base_dir=tmp_path)
