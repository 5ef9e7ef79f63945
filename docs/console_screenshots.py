"""Take the docs' screenshots of every console page (zh) on a small demo database, with Debian's chromium.

    .venv/bin/python docs/console_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from tests.console_web_support import browser_signed_in, chromium, console_server, tiny_png  # noqa: E402
from tests.office_support import add_person, pledge, quiz  # noqa: E402
from tests.test_report_flow import make_person, security_channel  # noqa: E402

PAGES = ("login", "cases", "case", "review", "figures", "warnings", "classes", "roster", "invite", "ledger", "audit")
ROSTER = ("学号,姓名,学院,班级,身份,标签\n2024101,陈一,文学院,中文2401,学生,新生\n2024102,林二,文学院,,学生,\n"
          "2024103,赵三,文学院,中文2401,班长,\n2024104,钱四,文学院,中文2401,保卫处,\n2024105,孙五,文学院,中文2401,学生,留学生\n")


async def demo(app) -> dict:
    """A class with a counsellor, a few reports filed through the chat, one acknowledged."""
    security_channel(app)
    class_id = await app.store.classes.ensure("计科2301", "计算机学院")
    await app.store.classes.ensure("会计2302", "经管学院")
    officer = await make_person(app, "S001", role="security", college="保卫处", name="张警官")
    counsellor = await make_person(app, "T100", role="counsellor", college="计算机学院", name="王老师")
    await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)",
                               (counsellor.person_id, class_id))
    stories = [
        ("有人冒充快递客服说要理赔，让我开了屏幕共享，卡里的钱被转走了", "13800138000 https://pay-scam.com/x", "3500"),
        ("刷单返利，先垫付了三单，对方拉黑了", "QQ 123456789", "800"),
        ("网上认识的人拉我投资虚拟币平台", "https://coin-profit.top", "12000"),
    ]
    for i, (story, ids, amount) in enumerate(stories):
        student = await make_person(app, f"202300{i + 1}", class_id=class_id, college="计算机学院", name=f"学生{i + 1}")
        await student.say("/report")
        await student.press("rep:money:money" if i != 1 else "rep:money:no")
        await student.say(story)
        await student.press("rep:skip")
        await student.press("rep:when:today")
        await student.press("rep:contact:phone")
        await student.say(ids)
        await student.press("rep:done")
        await student.say(amount)
        await student.press("rep:pay:alipay")
        await student.send_file(tiny_png(64, 40), "chat.png")
        await student.press("rep:done")
        await student.press("rep:submit")
        app.clock.advance(minutes=37)
        if i == 0:
            await pledge(app, student.person_id)
            await quiz(app, student.person_id, 90, app.clock.now())
    for n in range(4, 9):
        await add_person(app, f"20230{n:02d}", class_id, "计算机学院", name=f"学生{n}")
    await officer.say("受理 R-2026-000002")
    app.clock.advance(minutes=12)
    return {"officer": officer.person_id, "counsellor": counsellor.person_id}


async def shoot(out: Path) -> None:
    """Open each page as the person who uses it and save a PNG."""
    tmp = Path(tempfile.mkdtemp())
    config = load_config(ROOT / "config.toml", env={}, db_override=str(tmp / "demo.db"), base_dir=tmp)
    app = await App(config, clock=FakeClock()).open()
    try:
        who = await demo(app)
        async with console_server(app) as base, chromium() as browser:
            page = await browser_signed_in(browser, app, who["officer"])
            await page.set_viewport_size({"width": 1100, "height": 700})
            for name, path in (("cases", "/console/cases"), ("case", "/console/cases/R-2026-000001"),
                               ("figures", "/console/figures?period=term"), ("ledger", "/console/ledger"),
                               ("audit", "/console/audit")):
                await page.goto(base + path)
                await page.screenshot(path=str(out / f"console-{name}.png"), full_page=True)
            await page.goto(base + "/console/cases/R-2026-000003")          # flagged: its 倒查 review, saved
            await page.fill("#review textarea[name=findings]", "该生未参加本月反诈主题班会，预警推送未读")
            await page.fill("#review textarea[name=responsibility]", "班主任宣传覆盖不到位，已约谈并责令整改")
            await page.fill("#review textarea[name=follow_up]", "已安排心理疏导，协助派出所追赃")
            await page.click("#review button")
            await page.screenshot(path=str(out / "console-review.png"), full_page=True)
            await page.goto(base + "/console/warnings")
            await page.fill("textarea[name=body]", "近期多名同学接到冒充快递客服的理赔电话，对方要求开启屏幕共享。"
                            "快递理赔不会要求共享屏幕或转账，请立即挂断并拨打 96110。")
            await page.select_option("select[name=audience]", "all")
            await page.click("form[action$='/preview'] button")
            await page.screenshot(path=str(out / "console-warnings.png"), full_page=True)
            roster = Path(tempfile.mkdtemp()) / "名册.csv"
            roster.write_text(ROSTER, encoding="utf-8")
            await page.goto(base + "/console/roster")
            await page.set_input_files("input[type=file]", str(roster))
            await page.click("form[action$='/preview'] button")
            await page.screenshot(path=str(out / "console-roster.png"), full_page=True)
            await page.fill("form[action$='/invite'] input[name=number]", "T100")
            await page.click("form[action$='/invite'] button")
            await page.screenshot(path=str(out / "console-invite.png"), full_page=True)
            page = await browser_signed_in(browser, app, who["counsellor"])
            await page.set_viewport_size({"width": 390, "height": 760})       # a counsellor's phone
            await page.screenshot(path=str(out / "console-classes.png"), full_page=True)
            app.config.identity.cas.server_url = "https://cas.example.edu.cn/cas"     # the CAS sign-in offer
            app.config.identity.cas.public_url = base
            login = await (await browser.new_context(viewport={"width": 1100, "height": 500})).new_page()
            await login.goto(base + "/console/login?out=1")
            await login.screenshot(path=str(out / "console-login.png"), full_page=True)
    finally:
        await app.close()


def main() -> int:
    """Write docs/console-<page>.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    asyncio.run(shoot(args.out))
    for name in PAGES:
        path = args.out / f"console-{name}.png"
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
