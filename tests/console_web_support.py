"""The office console under test: the real aiohttp server on 127.0.0.1 and Debian's chromium via Playwright."""

from __future__ import annotations

import struct
import zlib
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from bot.serve import build_http
from bot.web import console
from handlers.console.links import issue_link

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@asynccontextmanager
async def console_server(app):
    """`wuzha serve`'s HTTP application with the console, on an ephemeral port; yields the base URL."""
    http = build_http(app)
    await console.start(app, http)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    app.config.server.port = port              # sign-in links point at this server
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chromium():
    """Debian's chromium, headless, driven by Playwright (never Playwright's own browser download)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def browser_signed_in(browser, app, person_id: int, lang: str = "zh"):
    """A page in a new browser context, signed in through a fresh one-time link."""
    context = await browser.new_context(locale="zh-CN" if lang == "zh" else "en-US",
                                        viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(await issue_link(app.services, person_id))
    await page.click("button.primary")
    return page


async def client_signed_in(app, base: str, person_id: int) -> tuple[aiohttp.ClientSession, str]:
    """A plain HTTP client signed in through a link; (session, CSRF token read from a page)."""
    jar = aiohttp.CookieJar(unsafe=True)
    client = aiohttp.ClientSession(cookie_jar=jar)
    link = await issue_link(app.services, person_id)
    token = link.split("token=", 1)[1]
    async with client.post(f"{base}/console/login", data={"token": token}) as response:
        body = await response.text()
        assert response.status == 200, body[:200]
    csrf = body.split('name="csrf" value="', 1)[1].split('"', 1)[0] if 'name="csrf"' in body else ""
    return client, csrf


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid red PNG, for an evidence photo the browser can really draw."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
