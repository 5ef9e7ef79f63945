"""The shared HTTP server under slow and vanishing clients: bodies are cut off, disconnects stay quiet."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlparse

import pytest

from bot.channels import wechat_oa, wecom
from tests.wechat_support import wechat_rig


@pytest.fixture
async def rig(config, clock, fake_api):
    """Both WeChat routes on the real server, bodies cut off after one second."""
    config.server.read_timeout_s = 1
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as served:
        yield served


async def open_raw(rig, path: str, length: int):
    """A raw connection that has sent the headers of a POST with the given Content-Length."""
    url = urlparse(rig.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(f"POST {path}?signature=x&timestamp=1&nonce=n HTTP/1.1\r\nHost: x\r\n"
                 f"Content-Length: {length}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def test_slow_bodies_are_cut_off(rig, caplog):
    async def trickle() -> tuple[int, float]:
        reader, writer = await open_raw(rig, "/wechat/oa", 200)
        started = time.monotonic()
        status = b""
        try:
            for _ in range(30):                         # one byte a second for up to 30 s
                writer.write(b"<")
                await writer.drain()
                try:
                    status = await asyncio.wait_for(reader.readline(), 0.25)
                except TimeoutError:
                    continue
                if status:
                    break
        except ConnectionError:
            pass
        writer.close()
        return int(status.split()[1]) if status else 0, time.monotonic() - started

    with caplog.at_level(logging.WARNING):
        results = await asyncio.gather(*(trickle() for _ in range(30)))
    assert all(status == 408 and elapsed < 4 for status, elapsed in results), results
    assert "408" in caplog.text
    assert (await rig.person("o-fine").say("/help")).status == 200      # the server still serves


async def test_a_client_gone_mid_body_is_one_debug_line(rig, caplog):
    with caplog.at_level(logging.DEBUG):
        for path in ("/wechat/oa", "/wechat/work"):
            _, writer = await open_raw(rig, path, 500)
            writer.write(b"<xml><Encrypt>")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        await asyncio.sleep(0.3)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "client went away" in caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert (await rig.person("o-fine").say("/help")).status == 200


async def test_slow_request_heads_are_cut_off(rig):
    url = urlparse(rig.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    started = time.monotonic()
    closed = False
    for byte in b"POST /wechat/oa HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 30:   # a byte every 0.2 s
        try:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.wait_for(reader.read(1), 0.2)
        except TimeoutError:
            continue
        except ConnectionError:
            pass
        closed = True
        break
    writer.close()
    assert closed and time.monotonic() - started < 4
