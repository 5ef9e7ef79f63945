"""Advice on free text: the advice card, the clarifying question, the emergency card, /learn, bad input."""

from __future__ import annotations

import pytest

from bot.library.matcher import detect_intent

BRUSHING_ZH = "有人拉我进群做点赞任务，先返了几块钱，现在让我垫付3000做连单才能提现"
BRUSHING_EN = "a stranger on Telegram pays me for liking videos, now the task app wants me to prepay a combo order"


@pytest.fixture
async def student(user_factory, demo_class):
    """A bound Chinese-speaking student."""
    user = user_factory("stu")
    await user.bind(demo_class.join_code, "20230001")
    return user


@pytest.fixture
async def student_en(user_factory, demo_class):
    """A bound English-speaking student."""
    user = user_factory("stu_en")
    await user.bind(demo_class.join_code, "20230002", lang="en")
    return user


def button_data(replies) -> list[str]:
    """Every button's data in the replies, in order."""
    return [b.data for r in replies for b in r.flat_buttons()]


async def test_description_gets_the_advice_card_in_chinese(student, app):
    replies = await student.say(BRUSHING_ZH)
    name = app.services.library.types["brushing"].name.zh
    assert name in student.text and "危险信号" in student.text and "96110" in student.text
    assert button_data(replies) == ["/report brushing", "/quiz brushing", "adv:nofit"]


async def test_description_gets_the_advice_card_in_english(student_en, app):
    replies = await student_en.say(BRUSHING_EN)
    fraud = app.services.library.types["brushing"]
    assert fraud.name.en in student_en.text and "Red flags" in student_en.text
    assert fraud.red_flags.en[0] in student_en.text
    assert button_data(replies) == ["/report brushing", "/quiz brushing", "adv:nofit"]


async def test_guest_writing_english_is_answered_in_english(user_factory):
    guest = user_factory("visitor")
    await guest.say("someone called saying they are police and I must move my savings to a safe account")
    assert "Red flags" in guest.text and "police" in guest.text.lower()


async def test_ask_without_text_asks_for_a_description_then_answers(student):
    await student.say("/ask")
    assert "描述" in student.text
    await student.say("QQ上有人冒充辅导员让我先垫付班费，说明天还我")
    assert "冒充领导、老师、熟人" in student.text


async def test_ask_with_text_answers_at_once(student):
    await student.say("/ask 对方说注销校园贷账户，否则影响征信，让我把借呗额度借出来转给他")
    assert "虚假征信" in student.text


async def test_this_does_not_fit_offers_the_types(student, app):
    await student.say(BRUSHING_ZH)
    replies = await student.press_label("不太符合")
    data = button_data(replies)
    assert "/learn loan" in data and len(data) == len(app.services.library.types)
    await student.say("其实是游戏账号交易，买家让我去一个交易平台收款")
    assert "网络游戏产品虚假交易" in student.text


async def test_urgent_message_gets_the_emergency_card_first(student):
    replies = await student.say("我已经转了5000块给那个自称淘宝客服的人，还把验证码给他了")
    first = replies[0]
    assert first.urgent and "110" in first.text and "96110" in first.text
    assert "冻结" in first.text and "追回" in first.text
    assert first.flat_buttons()[0].data.startswith("/report")


async def test_urgent_message_in_english(student_en):
    replies = await student_en.say("I already paid 3000 yuan to the 'courier' and gave him the SMS code")
    assert replies[0].urgent and "110" in replies[0].text and "freeze" in replies[0].text
    assert replies[0].flat_buttons()[0].data.startswith("/report")


@pytest.mark.parametrize("body", ["我好像被骗了", "我被骗了怎么办", "I think I was scammed, help"])
async def test_a_vague_emergency_names_no_scam_it_cannot_tell(student, body):
    replies = await student.say(body)
    assert replies[0].urgent and "110" in replies[0].text
    assert "看起来是" not in student.text and "looks like" not in student.text.lower()
    assert button_data(replies)[0] == "/report"      # the report starts without a guessed type


async def test_no_evidence_asks_one_question_then_answers(student):
    replies = await student.say("我收到一条短信")
    assert "再问一个问题" in student.text
    assert [d for d in button_data(replies) if d.startswith("adv:clar:")] == [
        "adv:clar:money", "adv:clar:code", "adv:clar:download", "adv:clar:none"]
    await student.say("他说是快递理赔客服，要我开屏幕共享")
    assert "冒充电商物流客服" in student.text


async def test_clarifying_without_a_match_gives_general_advice_and_report(student):
    await student.say("我收到一条短信")
    replies = await student.press("adv:clar:none")
    assert "96110" in student.text and "/report" in button_data(replies)


async def test_learn_lists_types_and_shows_a_card(student, app):
    replies = await student.say("/learn")
    assert len(button_data(replies)) == len(app.services.library.types)
    replies = await student.press("/learn romance")
    assert app.services.library.types["romance"].summary.zh in student.text
    assert "adv:nofit" not in button_data(replies)     # the person chose the type: nothing was guessed
    await student.say("/learn nonsense_type")
    assert "nonsense_type" in student.text


@pytest.mark.parametrize("body", ["asdfghjkl", "😀😀😀🙏", "。。。！！！", "???"])
async def test_nonsense_and_emoji_are_answered_politely(student, body):
    replies = await student.say(body)
    assert replies and "出了点问题" not in student.text
    assert "描述" in student.text


async def test_empty_and_very_long_input_are_answered(student):
    await student.say("   ")
    assert student.text and "出了点问题" not in student.text
    await student.say("刷单返利" * 2500)
    assert "出了点问题" not in student.text and "刷单返利" in student.text


async def test_free_text_asking_for_a_feature_goes_there(student, app):
    pledge_direct = await student.say("/pledge")
    via_text = await student.say("承诺书在哪")
    assert via_text[0].text == pledge_direct[0].text
    await student.say("做题")
    assert student.replies[-1].quiz is not None or "题" in student.text
    await student.say("/cancel")
    replies = await student.say("我要举报")
    assert "再问一个问题" not in student.text and "危险信号" not in student.text
    assert replies


async def test_guest_asking_for_a_members_feature_is_told_to_bind(user_factory):
    guest = user_factory("g2")
    replies = await guest.say("做题")
    assert replies[0].alert and "/start" in guest.text


@pytest.mark.parametrize("body, intent", [
    ("我要举报", "report"), ("举报", "report"), ("怎么报案", "report"), ("report", "report"),
    ("I want to report", "report"), ("做题", "quiz"), ("我要答题", "quiz"), ("quiz", "quiz"),
    ("承诺书在哪", "pledge"), ("where is the pledge", "pledge"), ("打卡", "checkin"), ("check-in", "checkin"),
    ("help", "help"), ("常见骗局", "learn"),
])
def test_intents(body, intent):
    assert detect_intent(body) == intent


@pytest.mark.parametrize("body", [
    "有人让我刷单返利，先垫付再返佣金", "I want to report a scam where someone asked for my bank card and code",
    "考试答案有人在卖", "", "我要举报的那个人让我先交保证金才能贷款，然后他把我拉黑了，现在我很着急",
])
def test_descriptions_are_not_intents(body):
    assert detect_intent(body) is None


async def test_a_feature_request_inside_the_clarifying_question_goes_to_the_feature(student):
    await student.say("有个人一直加我好友")
    await student.say("承诺书在哪")
    assert "承诺" in student.text and "再问一个问题" not in student.text


async def test_group_chatter_is_not_answered(app):
    from bot.events import Incoming, Kind

    replies = await app.handle(Incoming("test", "u9", "group1", Kind.TEXT, "大家好，明天几点上课？", is_group=True))
    assert replies == []


async def test_an_ordinary_courier_message_is_called_ordinary_with_how_to_check(student):
    replies = await student.say("【中通快递】您的包裹已到学校南门驿站，取件码5-2-1103，请及时领取")
    assert "正常消息" in student.text and "官方App" in student.text
    assert "这很像" not in student.text and "/report" in button_data(replies)


async def test_an_ordinary_message_in_english(student_en):
    await student_en.say("my professor emailed about my essay, she wants me to add two more sources")
    assert "ordinary message" in student_en.text and "looks like:" not in student_en.text


async def test_unsure_offers_the_top_three_types_and_general_advice(student):
    replies = await student.say("有个人一直加我好友")
    learn = [d for d in button_data(replies) if d.startswith("/learn ")]
    assert 1 <= len(learn) <= 3 and "/report" in button_data(replies)
    assert "不能确定" in student.text and "96110" in student.text
    await student.press(learn[0])
    assert "危险信号" in student.text
