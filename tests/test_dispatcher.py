"""The dispatcher's own rules: commands, offered choices by number/letter/words, role refusals."""

from __future__ import annotations

import pytest

from bot.choices import match_choice
from bot.dispatcher import parse_command

CHOICES = [("是 Yes", "c:yes"), ("否 No", "c:no"), ("跳过", "c:skip"), ("我已阅读并承诺", "/pledge")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [("/help", ("help", "")), ("/start ABC123", ("start", "ABC123")), ("/Quiz@wuzha_bot loan", ("quiz", "loan")),
     ("help", None), ("/", None), ("/123", None)],
)
def test_parse_command(body, expected):
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [("1", "c:yes"), ("2", "c:no"), ("B", "c:no"), ("b", "c:no"), ("选B", "c:no"), ("选项 c", "c:skip"),
     ("4", "/pledge"), ("跳过", "c:skip"), ("yes", "c:yes"), ("我已阅读并承诺", "/pledge"),
     ("9", None), ("E", None), ("", None),
     ("有人让我跳过验证直接转账到安全账户，我已经转了五千块", None)],
)
def test_match_choice(body, expected):
    assert match_choice(body, CHOICES) == expected


async def test_an_option_that_carries_a_command_runs_it_when_answered_by_number(app, user_factory):
    kim = user_factory("kim")
    await kim.say("有个自称淘宝客服的人说我买的衣服有质量问题要三倍退款，让我下载会议软件共享屏幕")
    report_button = next(b for r in kim.replies for b in r.flat_buttons() if b.data.startswith("/report"))
    position = [b.data for r in kim.replies for b in r.flat_buttons()].index(report_button.data) + 1
    await kim.say(str(position))
    assert "110" in kim.text                              # the report command ran: a guest gets the urgent form
    assert kim.replies[-1].text == app.services.translate("report.ask_money", "zh")


async def test_a_refused_press_is_an_alert(app, demo_class, user_factory):
    lee = user_factory("lee")
    await lee.bind(demo_class.join_code, "2023100")
    await lee.press("rep:ack:R-2026-000001")
    assert lee.replies[0].alert


async def test_a_report_right_after_advice_starts_from_the_persons_words(app, demo_class, user_factory):
    mia = user_factory("mia")
    await mia.bind(demo_class.join_code, "2023101")
    story = "有人在QQ上说做刷单任务可以返利，前两单返了钱，现在让我垫付三千才能提现"
    await mia.say(story)
    await mia.press_label("举报")
    assert "我已把你刚才的描述" in mia.text
    draft = await app.store.db.fetchone("SELECT description, fraud_type FROM reports ORDER BY id DESC LIMIT 1")
    assert draft["description"] == story and draft["fraud_type"] == "brushing"


async def test_options_still_answer_after_a_reply_that_keeps_the_conversation_where_it_was(app, demo_class, user_factory):
    ned = user_factory("ned")
    await ned.bind(demo_class.join_code, "2023102")
    await ned.say("/quiz")
    spec = next(r.quiz for r in ned.replies if r.quiz)
    attempt = int(spec.answer_prefix.split(":")[2])
    await ned.say("no idea, sorry")               # not an option: the bot asks again, with no new options
    assert "A-D" in ned.text
    await ned.say("B")                            # the question on screen is still the one to answer
    (row,) = await app.store.quizzes.answers(attempt)
    assert app.services.library.quiz_by_id(row.question_id).zh.options[row.chosen] == spec.options[1]
