"""One matcher for every option: numbers, letters, 选B, full-width forms, natural yes / no, closed questions."""

from __future__ import annotations

import pytest

from bot.choices import is_no, is_yes, match_choice
from tests.support import make_person

YES_NO = [("是", "ci:d:q:yes"), ("否", "ci:d:q:no")]
QUIZ = [("短信", "qz:a:1:0:0"), ("电话", "qz:a:1:0:1"), ("网站", "qz:a:1:0:2"), ("都不是", "qz:a:1:0:3")]


@pytest.mark.parametrize("body", ["是", "是的", "对", "嗯", "有", "好", "yes", "Yep", "y", "sure", "Yes."])
def test_yes_words(body):
    assert is_yes(body) and match_choice(body, YES_NO) == "ci:d:q:yes"


@pytest.mark.parametrize("body", ["否", "不是", "没有", "没", "不", "还没", "no", "nope", "N", "not really",
                                  "Not yet!", "没有。"])
def test_no_words(body):
    assert is_no(body) and match_choice(body, YES_NO) == "ci:d:q:no"


@pytest.mark.parametrize(("body", "index"), [("Ｄ", 3), ("４", 3), ("选B", 1), ("选 Ｂ", 1), ("b", 1), ("2.", 1),
                                             ("第3个", 2), ("option c", 2)])
def test_letters_numbers_and_full_width_forms(body, index):
    assert match_choice(body, QUIZ) == QUIZ[index][1]


async def test_checkin_takes_natural_no_in_both_languages(app, demo_class):
    for number, lang, word in (("2023001", "zh", "没"), ("2023002", "en", "not really")):
        user = await make_person(app, number, class_id=demo_class.id, college=demo_class.college, lang=lang)
        await user.say("/checkin")
        await user.say(word)
        answered = await app.store.checkins.answered_on(user.person_id, "2026-11-23")
        assert len(answered) == 1, user.text


async def _to_preview(user):
    await user.say("/report")
    await user.say("没有")                              # nothing gone
    await user.say("有人加我微信让我刷单返利，说先垫付三百块就返佣金")
    for _ in range(8):
        account = await user.app.store.accounts.find(user.platform, user.key)
        state = await user.app.store.conversations.get(account.id)
        if state.step == "preview":
            return
        await user.say("跳过")
    raise AssertionError(user.text)


async def test_report_type_guess_confirmed_with_dui_and_submit_by_meaning(app, demo_class):
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say("/report")
    await user.say("没有")
    await user.say("有人加我微信让我刷单返利，说先垫付三百块就返佣金")
    asked_type = user.replies[-1]
    assert any(b.data.startswith("rep:type:") for b in asked_type.flat_buttons())
    await user.say("对")
    assert user.replies[-1].text == app.services.translate("report.ask_when", "zh")
    await user.say("/cancel")
    other = await make_person(app, "2023002", class_id=demo_class.id, college=demo_class.college)
    await _to_preview(other)
    await other.say("提交")                             # not the anonymous one, and not the summary again
    assert "R-2026-" in other.text and app.services.translate("report.preview_how", "zh") not in other.text
    third = await make_person(app, "2023003", class_id=demo_class.id, college=demo_class.college)
    await _to_preview(third)
    await third.say("匿名提交")
    report = await app.store.reports.get(3)
    assert report["anonymous"] == 1


async def test_an_answer_to_a_closed_question_says_it_closed(app, demo_class):
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    app.config.program.quiz_size = 1
    await user.say("/quiz")
    await user.say("A")                                 # the only question: the quiz ends with two buttons
    await user.say("C")
    assert user.text == app.services.translate("choice.out_of_range", "zh", count=2)
    await user.say("/me")
    await user.say("C")
    assert user.text == app.services.translate("choice.closed", "zh")


@pytest.mark.parametrize(("words", "type_id"), [("刷单", "brushing"), ("刷单返利", "brushing"), ("杀猪盘", "romance"),
                                                ("网贷", "loan"), ("Pig butchering", "romance"), ("loan", "loan")])
async def test_quiz_and_learn_take_type_names_and_aliases(app, demo_class, words, type_id):
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say(f"/learn {words}")
    name = app.services.library.type(type_id).name.get("zh")
    assert name in user.replies[0].text
    await user.say(f"/quiz {words}")
    attempt = await app.store.quizzes.get(1)
    assert attempt.fraud_type == type_id


async def test_asked_but_not_done_is_not_urgent_and_an_unsure_type_is_not_named(app, demo_class):
    matcher = app.services.extras["matcher"]
    assert not matcher.is_urgent("客服说我的订单有问题，还让我开屏幕共享 咋办")
    assert matcher.is_urgent("我打开了屏幕共享")
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say("/report")
    await user.say("我刚转了5000块给客服")               # urgent, but nothing says which scam it was
    report = await app.store.reports.get(1)
    assert report["urgent"] == 1 and report["fraud_type"] == "other"


async def test_the_contest_invites_start_answer_is_the_contest_not_the_quiz(app, demo_class):
    from tests.support import RecordingChannel

    channel = RecordingChannel("test")
    app.add_channel(channel)
    monitor = await make_person(app, "2023100", role="monitor", class_id=demo_class.id, college=demo_class.college)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await monitor.say("/contest")
    while await app.senders["test"].drain_once():
        pass
    invite = channel.to(student.key)[-1]
    label = invite.flat_buttons()[0].label
    await student.say(label)                              # typed, as on a text-only chat
    account = await app.store.accounts.find(student.platform, student.key)
    state = await app.store.conversations.get(account.id)
    assert state is not None and state.name == "contest"


async def test_a_pushed_self_check_is_answered_with_a_plain_no(app, demo_class):
    from handlers import program_jobs
    from tests.support import RecordingChannel

    app.add_channel(RecordingChannel("test"))
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await program_jobs.push_daily_checkin(app, "2026-11-23")
    while await app.senders["test"].drain_once():
        pass
    await user.say("没有")
    assert len(await app.store.checkins.answered_on(user.person_id, "2026-11-23")) == 1


async def test_a_self_check_left_for_days_is_not_shown_again(app, demo_class, clock):
    user = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await user.say("/checkin")
    clock.advance(days=3)
    await user.say("/help")
    assert not any(b.data.startswith("ci:") for b in user.replies[-1].flat_buttons())
    account = await app.store.accounts.find(user.platform, user.key)
    assert await app.store.conversations.get(account.id) is None
