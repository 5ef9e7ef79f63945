"""The console as the operator meets it: `wuzha serve`, `wuzha console link`, a Secure cookie behind https."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, load_config
from handlers.console.links import issue_link
from tests.console_web_support import chromium, console_server
from tests.test_report_flow import make_person

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wuzha(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WUZHA_DB": str(folder / "w.db")}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=folder, env=env,
                          timeout=120)


async def test_the_operator_prints_a_link_and_a_counsellor_opens_it_on_wuzha_serve(tmp_path):
    port = free_port()
    (tmp_path / "config.toml").write_text(f"[server]\nport = {port}\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("学号,姓名,学院,班级,身份\n2024001,陈一,文学院,中文2401,学生\nT200,周老师,文学院,中文2401,辅导员\n",
                      encoding="utf-8")
    assert wuzha(tmp_path, "roster", "import", str(roster)).returncode == 0
    refused = wuzha(tmp_path, "console", "link", "2024001")
    assert refused.returncode == 1 and "the console is for" in refused.stderr
    printed = wuzha(tmp_path, "console", "link", "T200")
    assert printed.returncode == 0, printed.stderr
    link = printed.stdout.strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/console/login\?token=[\w-]{{40,}}", link)

    env = {**os.environ, "WUZHA_DB": str(tmp_path / "w.db")}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(300):
                try:
                    async with client.get(f"http://127.0.0.1:{port}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)
        async with chromium() as browser:
            page = await (await browser.new_context()).new_page()
            await page.goto(link)
            await page.click("button.primary")
            assert page.url == f"http://127.0.0.1:{port}/console/classes"
            body = await page.inner_text("main")
            assert "中文2401" in body and "陈一" in body
            css = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert css == "rgb(245, 247, 250)"                # the stylesheet came from the bot itself
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


async def test_behind_https_links_use_the_public_url_and_the_cookie_is_secure(app, demo_class):
    officer = await make_person(app, "S001", role="security", college="保卫处")
    async with console_server(app) as base:
        app.config.server.public_url = "https://wuzha.example.edu.cn"
        link = await issue_link(app.services, officer.person_id)
        assert link.startswith("https://wuzha.example.edu.cn/console/login?token=")
        async with aiohttp.ClientSession() as client, client.post(
                f"{base}/console/login", data={"token": link.split("token=")[1]}, allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.headers["Set-Cookie"]
        for part in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/console"):
            assert part in cookie
        async with aiohttp.ClientSession() as client, client.post(
                f"{base}/console/login", data={"token": "x" * 5000}) as response:
            assert response.status == 413                    # the sign-in form is small


@pytest.mark.parametrize("value", ["wuzha.example.edu.cn", "https://wuzha.example.edu.cn/", "ftp://x"])
def test_a_public_url_that_is_not_http_is_refused_with_its_key(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(f'[server]\npublic_url = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.public_url"):
        load_config(path, env={})


def test_every_string_a_console_template_asks_for_exists_in_both_languages():
    from bot.library.loader import load_library

    strings = load_library(ROOT / "content").strings
    used = set()
    for template in (ROOT / "bot" / "web" / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'""", template.read_text(encoding="utf-8")))
    assert len(used) > 60
    # A key ending in "." or "_" is a prefix the template completes ('report.status.' ~ status).
    missing = {key for key in used if (key not in strings if key[-1] not in "._"
                                       else not any(k.startswith(key) for k in strings))}
    assert missing == set()
    roles = {"console.role_" + role for role in ("student", "staff", "monitor", "counsellor", "security", "admin")}
    assert roles <= set(strings)
