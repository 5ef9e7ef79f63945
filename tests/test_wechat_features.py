"""Features over real WeChat callbacks: a quiz answered by letters, a report with a picture, the office's text commands."""

from __future__ import annotations

import json

import pytest

from bot.channels import wechat_oa, wecom
from handlers.quiz import option_order
from tests.wechat_support import wechat_rig

LETTERS = "ABCD"


@pytest.fixture
async def rig(config, clock, fake_api):
    """Both WeChat channels, the security channel on the WeCom app."""
    config.security_channel.targets = ["wecom_app"]
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as served:
        yield served


async def bind(person, code: str, number: str) -> None:
    """Subscribe and bind by typing, as a WeChat user does."""
    await person.event("subscribe")
    await person.say("1")                                   # 中文
    await person.say(code)
    reply = await person.say(number)
    assert "✅" in reply.text or "绑定" in reply.text, reply.text


async def state_of(rig, platform: str, user: str):
    """The person's persisted conversation."""
    account = await rig.app.store.accounts.find(platform, user)
    return await rig.app.store.conversations.get(account.id)


async def number_of(rig, platform: str, user: str, data_prefix: str) -> str:
    """The number to type for the offered option whose data starts with data_prefix."""
    account = await rig.app.store.accounts.find(platform, user)
    choices = await rig.app.store.choices.get(account.id)
    for index, (_, data) in enumerate(choices, 1):
        if data.startswith(data_prefix):
            return str(index)
    raise AssertionError(f"no option {data_prefix!r} in {choices}")


async def exchange(rig, person, body: str) -> list[str]:
    """Say something; return every text that came back: the passive reply, then what followed by the API."""
    before = len(rig.api.to("message/custom/send"))
    reply = await person.say(body)
    await rig.settled()
    followed = [c.body["text"]["content"] for c in rig.api.to("message/custom/send")[before:]
                if c.body["touser"] == person.user]
    return [reply.text, *followed]


async def test_a_quiz_answered_by_letters(rig, demo_class):
    rig.app.config.program.quiz_size = 3
    lei = rig.person("o-lei")
    await bind(lei, demo_class.join_code, "20239001")
    texts = await exchange(rig, lei, "/quiz")
    for _ in range(3):
        question = next(t for t in reversed(texts) if "A. " in t)
        assert "D. " in question and "回复字母" in question
        attempt = await rig.app.db.fetchone("SELECT * FROM quiz_attempts ORDER BY id DESC LIMIT 1")
        answered = await rig.app.db.fetchval("SELECT COUNT(*) FROM quiz_answers WHERE attempt_id = ?",
                                             (attempt["id"],))
        question = rig.app.services.library.quiz_by_id(json.loads(attempt["questions"])[answered])
        shown = option_order(question, attempt["id"], answered).index(question.answer)     # shuffled per attempt
        texts = await exchange(rig, lei, f"选{LETTERS[shown]}")
    person = await rig.app.store.people.by_number("20239001")
    assert await rig.app.store.quizzes.has_passed(person.id)
    assert "100" in "\n".join(texts)


async def test_a_report_with_a_picture_and_the_officer_acknowledges_in_wecom(rig, demo_class):
    photo = b"\xff\xd8\xff\xe0" + b"JPEGDATA" * 300
    rig.api.media["MEDIA-1"] = photo
    officer = await rig.app.store.people.create("S0001", None, "保卫处", role="security")
    boss = rig.person("wang.officer", platform="wecom")
    await boss.say("/help")
    account = await rig.app.store.accounts.find("wecom", "wang.officer")
    await rig.app.store.accounts.bind(account.id, officer.id)

    mei = rig.person("o-mei")
    await bind(mei, demo_class.join_code, "20239002")
    await mei.say("/report")
    for _ in range(20):
        state = await state_of(rig, "wechat_oa", "o-mei")
        if state is None:
            break
        step = state.step
        if step == "money":
            await mei.say(await number_of(rig, "wechat_oa", "o-mei", "rep:money:no"))
        elif step == "what":
            await mei.say("有人在QQ上让我刷单返利，先让我垫付 200 元，说马上返还佣金。对方QQ 123456789")
        elif step == "type":
            await mei.say(await number_of(rig, "wechat_oa", "o-mei", "rep:type:"))
        elif step == "evidence":
            await mei.send("image", MediaId="MEDIA-1", PicUrl="http://example.invalid/p.jpg")
            await mei.say(await number_of(rig, "wechat_oa", "o-mei", "rep:done"))
        elif step == "preview":
            await mei.say(await number_of(rig, "wechat_oa", "o-mei", "rep:submit"))
        else:
            await mei.say(await number_of(rig, "wechat_oa", "o-mei", "rep:skip"))
    else:
        raise AssertionError("the report form did not finish")
    report = await rig.app.db.fetchone("SELECT * FROM reports ORDER BY id DESC LIMIT 1")
    assert report["status"] == "received"
    evidence = await rig.app.db.fetchall("SELECT * FROM report_evidence WHERE report_id = ?", (report["id"],))
    assert len(evidence) == 1 and evidence[0]["size"] == len(photo)
    assert rig.api.to("media/get"), "the picture was fetched through the media API"

    await rig.settled()
    cards = [c.body for c in rig.api.to("message/send") if c.body["touser"] == "wang.officer"]
    assert any(report["case_no"] in (c.get("text") or {}).get("content", "") for c in cards)
    reply = await boss.say(f"受理 {report['case_no']}")
    assert reply.status == 200
    await rig.settled()
    assert (await rig.app.store.reports.get(report["id"]))["status"] == "acknowledged"
