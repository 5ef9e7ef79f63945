"""Every bad callback is refused before anything is parsed or stored, and the server keeps serving."""

from __future__ import annotations

import logging

import pytest

from bot.channels import wechat_oa, wecom
from tests.wechat_support import wechat_rig

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>a</ToUserName><FromUserName>&lol3;</FromUserName><MsgType>text</MsgType></xml>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>&xxe;</FromUserName><MsgType>text</MsgType></xml>"""


@pytest.fixture
async def rig(config, clock, fake_api):
    """Both callback routes on the real HTTP server."""
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as served:
        yield served


@pytest.fixture
async def compat_rig(config, clock, fake_api):
    """Both routes with the Official Account in compat mode (plaintext taken although an AES key is set)."""
    config.channels.wechat_oa.accept_plaintext = True
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as served:
        yield served


async def assert_nothing_stored(rig) -> None:
    """No account, dedupe row or outbox row was written."""
    for table in ("accounts", "inbox", "outbox", "wechat_interactions"):
        assert await rig.app.db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table


async def assert_still_serving(rig) -> None:
    """A good callback right after is answered."""
    reply = await rig.person("o-good").say("/help")
    assert reply.status == 200 and "/help" in reply.text


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_bad_or_missing_signature_is_403(rig, platform, caplog):
    person = rig.person("o-mallory", platform=platform)
    query, body = person.signed(person.xml("text", Content="/start"))
    forged = dict(query, msg_signature="0" * 40, signature="0" * 40)
    with caplog.at_level(logging.WARNING):
        assert (await person.post(forged, body)).status == 403
    assert "127.0.0.1" in caplog.text                        # logged with the peer address
    assert (await person.post({}, body)).status == 403
    await assert_nothing_stored(rig)
    await assert_still_serving(rig)


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_malformed_xml_is_400(compat_rig, platform):
    rig = compat_rig
    person = rig.person("o-mallory", platform=platform)
    query, _ = person.signed(person.xml("text", Content="hi"))
    assert (await person.post(query, "<xml><Encrypt>abc</Encr")).status == 400
    oa_plain = rig.person("o-mallory", aes=False)
    query, _ = oa_plain.signed("")
    assert (await oa_plain.post(query, "<xml><Content>unclosed")).status == 400
    assert (await oa_plain.post(query, "not xml at all")).status == 400
    await assert_nothing_stored(rig)
    await assert_still_serving(rig)


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_body_over_64_kb_is_413(rig, platform):
    person = rig.person("o-mallory", platform=platform)
    query, _ = person.signed(person.xml("text", Content="hi"))
    big = "<xml><Content>" + "x" * (65 * 1024) + "</Content></xml>"
    assert (await person.post(query, big)).status == 413
    await assert_nothing_stored(rig)
    await assert_still_serving(rig)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
async def test_entity_documents_are_refused_unexpanded(compat_rig, document):
    rig = compat_rig
    oa_plain = rig.person("o-mallory", aes=False)
    query, _ = oa_plain.signed("")
    reply = await oa_plain.post(query, document)
    assert reply.status == 400 and "root:" not in reply.body
    encrypted = rig.person("o-mallory")                      # the same document inside a valid AES envelope
    reply = await encrypted.post(*encrypted.signed(document))
    assert reply.status == 400
    work = rig.person("mallory", platform="wecom")
    reply = await work.post(*work.signed(document))
    assert reply.status == 400
    await assert_nothing_stored(rig)
    await assert_still_serving(rig)
