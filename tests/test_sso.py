"""School single sign-on against a fake CAS server on 127.0.0.1 speaking real CAS XML: success and every failure."""

from __future__ import annotations

import aiohttp
import pytest

from bot import sso
from bot.app import App
from storage.people import RosterRow
from tests.fakes.cas import FakeCas
from tests.support import RecordingChannel, User
from tests.wechat_support import serve_http


@pytest.fixture
async def cas():
    """The fake CAS server."""
    server = await FakeCas().start()
    yield server
    await server.stop()


@pytest.fixture
async def rig(config, clock, cas):
    """The bot's HTTP server with the SSO routes, a recorded chat channel, a browser session."""
    config.identity.cas.server_url = cas.base
    config.identity.cas.public_url = "http://placeholder"
    app = await App(config, clock=clock).open()
    app.add_channel(RecordingChannel("test"))
    app.add_channel(RecordingChannel("console"))
    served = await serve_http(app, [sso.start])
    config.identity.cas.public_url = served.base
    await app.store.people.upsert_roster([
        RosterRow("S900", "王科长", "保卫处", ["保卫处 教职工 staff"], None, "security", []),
    ])
    async with aiohttp.ClientSession() as browser:
        yield app, browser, served.base
    await served.stop()
    await app.close()


async def link_for(app, key: str = "officer") -> tuple[User, str]:
    """A chat that asked to link: the one-time link the bot sent."""
    user = User(app, key)
    await user.say("/start")
    await user.press("lang:zh")
    line = next(r.text for r in user.replies if "/sso/login?t=" in (r.text or ""))
    return user, line.split("：", 1)[1].strip() if "：" in line else line.split()[-1]


async def chat_news(app, key: str) -> list[str]:
    """What the chat was sent since (the outbox drained)."""
    sender = app.senders["test"]
    while await sender.drain_once():
        pass
    return [m.text or "" for m in app.channels["test"].to(key)]


async def test_signing_on_binds_the_chat_with_the_officers_role(rig, cas):
    app, browser, _ = rig
    user, link = await link_for(app)
    async with browser.get(link) as page:                # -> CAS login -> back with a ticket -> bound
        assert page.status == 200 and "已绑定" in await page.text()
    assert cas.validations[0]["path"] == "/cas/p3/serviceValidate"
    account = await app.store.accounts.find("test", "officer")
    person = await app.store.people.by_number("S900")
    assert account.person_id == person.id and account.proof == "sso"
    assert any("身份：保卫处" in t for t in await chat_news(app, "officer"))
    await user.say("/reports")
    assert "目前没有未结案的举报" in user.text


async def test_cas_2_uses_service_validate(rig, cas):
    app, browser, _ = rig
    app.config.identity.cas.version = 2
    _, link = await link_for(app)
    async with browser.get(link) as page:
        assert page.status == 200
    assert cas.validations[0]["path"] == "/cas/serviceValidate"


async def test_a_reused_link_binds_nothing_more(rig, cas):
    app, browser, _ = rig
    _, link = await link_for(app)
    async with browser.get(link) as page:
        assert page.status == 200
    async with browser.get(link) as page:
        assert page.status == 410 and "已经用过" in await page.text()


async def test_an_expired_link_is_refused_with_a_page_and_a_message(rig, cas, clock):
    app, browser, _ = rig
    _, link = await link_for(app)
    clock.advance(minutes=11)
    async with browser.get(link) as page:
        assert page.status == 410 and "已过期" in await page.text()
    assert (await app.store.accounts.find("test", "officer")).person_id is None
    assert any("已过期" in t for t in await chat_news(app, "officer"))
    assert cas.validations == []


async def test_a_bad_or_reused_ticket_binds_nothing(rig, cas):
    app, browser, base = rig
    _, link = await link_for(app)
    token = link.split("t=", 1)[1]
    async with browser.get(f"{base}/sso/callback", params={"t": token, "ticket": "ST-forged"}) as page:
        assert page.status == 403 and "没有确认" in await page.text()
    assert (await app.store.accounts.find("test", "officer")).person_id is None
    assert any("没有确认" in t for t in await chat_news(app, "officer"))
    # A real ticket replayed on a second link: CAS tickets are single use.
    _, second = await link_for(app, "officer2")
    token2 = second.split("t=", 1)[1]
    ticket = cas.issue(sso.service_url(app.config.identity.cas, token2))
    async with browser.get(f"{base}/sso/callback", params={"t": token2, "ticket": ticket}) as page:
        assert page.status == 200
    _, third = await link_for(app, "officer3")
    async with browser.get(f"{base}/sso/callback", params={"t": third.split("t=", 1)[1], "ticket": ticket}) as page:
        assert page.status == 403
    assert (await app.store.accounts.find("test", "officer3")).person_id is None


async def test_a_cas_user_not_in_the_roster_is_told_and_not_bound(rig, cas):
    app, browser, _ = rig
    cas.user = "X0000"
    _, link = await link_for(app)
    async with browser.get(link) as page:
        assert page.status == 403 and "不在本系统名单" in await page.text()
    assert (await app.store.accounts.find("test", "officer")).person_id is None
    assert any("不在本系统名单" in t for t in await chat_news(app, "officer"))


async def test_cas_unreachable_or_answering_garbage_binds_nothing(rig, cas):
    app, browser, _ = rig
    _, link = await link_for(app)
    cas.answer_override = "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"
    async with browser.get(link) as page:
        assert page.status == 403 and "无法识别" in await page.text()
    _, link = await link_for(app, "officer2")
    async with browser.get(link, allow_redirects=False) as page:
        assert page.status == 302
        login = page.headers["Location"]
    async with browser.get(login, allow_redirects=False) as page:
        callback = page.headers["Location"]
    await cas.stop()
    async with browser.get(callback) as page:
        assert page.status == 502 and "连不上" in await page.text()
    for key in ("officer", "officer2"):
        assert (await app.store.accounts.find("test", key)).person_id is None


async def test_malformed_requests_get_an_http_error(rig):
    _, browser, base = rig
    async with browser.get(f"{base}/sso/login") as page:
        assert page.status == 400
    async with browser.get(f"{base}/sso/callback", params={"t": "x"}) as page:
        assert page.status == 400
    async with browser.get(f"{base}/sso/login", params={"t": "nonsense"}) as page:
        assert page.status == 404


def test_parse_cas_response_reads_success_and_failure():
    from tests.fakes.cas import FAILURE, SUCCESS

    assert sso.parse_cas_response(SUCCESS.format(user="2023001")) == "2023001"
    with pytest.raises(sso.CasError) as failure:
        sso.parse_cas_response(FAILURE.format(code="INVALID_TICKET", message="no"))
    assert failure.value.reason == "invalid_ticket"
