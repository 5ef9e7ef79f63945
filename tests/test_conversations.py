"""Every conversation × a side command: the side question is answered, the step is shown again untouched,
and the next answer lands where the person left off."""

from __future__ import annotations

import pytest

from bot.choices import offered
from handlers.drill import drills_of_library
from tests.support import RecordingChannel, User, make_person

SIDE_COMMANDS = ("/check 13800138000", "/lang", "/me", "/help")


async def _state(app, user: User):
    account = await app.store.accounts.find(user.platform, user.key)
    return await app.store.conversations.get(account.id)


async def _student(app, demo_class, number="2023001") -> User:
    return await make_person(app, number, class_id=demo_class.id, college=demo_class.college)


async def _monitor(app, demo_class) -> User:
    monitor = await make_person(app, "2023100", role="monitor", class_id=demo_class.id, college=demo_class.college)
    await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)",
                               (monitor.person_id, demo_class.id))
    return monitor


async def _officer(app) -> User:
    if "console" not in app.channels:
        app.add_channel(RecordingChannel("console"))
        app.add_channel(RecordingChannel("test"))
    return await make_person(app, "S001", role="security", college="保卫处", name="张警官")


# Each case: open the conversation (returning the user), then the answer that should move it on.
async def open_quiz(app, demo_class):
    user = await _student(app, demo_class)
    await user.say("/quiz")
    return user, "B"


async def open_checkin(app, demo_class):
    user = await _student(app, demo_class)
    await user.say("/checkin")
    return user, "没有"


async def open_report(app, demo_class):
    user = await _student(app, demo_class)
    await user.say("/report")
    return user, "没有"


async def open_drill(app, demo_class):
    user = await _student(app, demo_class)
    first = next(iter(drills_of_library(app.services.library)))
    await user.say(f"/drill {first}")
    return user, "1"


async def open_pledge(app, demo_class):
    user = await _student(app, demo_class)
    await user.say("/pledge")
    return user, "同意"


async def open_log(app, demo_class):
    user = await _monitor(app, demo_class)
    await user.say("/log")
    return user, "1"


async def open_contest(app, demo_class):
    monitor = await _monitor(app, demo_class)
    await monitor.say("/contest")
    user = await _student(app, demo_class)
    await user.press("ct:join:1")
    return user, "A"


async def open_onboarding(app, demo_class):
    user = User(app, "newcomer")
    await user.say("/start")
    return user, "1"


async def open_resolve_note(app, demo_class):
    student = await _student(app, demo_class)
    await student.say("/report")
    await student.press("rep:money:money")             # files R-2026-000001 at once
    officer = await _officer(app)
    await officer.press("rep:resolve:R-2026-000001")
    return officer, "已联系学生，处理完毕"


async def open_warn(app, demo_class):
    officer = await _officer(app)
    await officer.say("/warn")
    return officer, "brushing"


async def open_ask(app, demo_class):
    user = await _student(app, demo_class)
    await user.say("/ask")
    return user, "有人让我刷单返利，先垫付三百块"


CONVERSATIONS = {
    "quiz": open_quiz, "checkin": open_checkin, "report": open_report, "drill": open_drill,
    "pledge": open_pledge, "classlog": open_log, "contest": open_contest, "onboarding": open_onboarding,
    "officeresolve": open_resolve_note, "officewarn": open_warn, "advice": open_ask,
}


@pytest.mark.parametrize("side", SIDE_COMMANDS)
@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
async def test_a_side_command_leaves_the_conversation_where_it_was(app, demo_class, name, side):
    user, answer = await CONVERSATIONS[name](app, demo_class)
    before = await _state(app, user)
    assert before is not None and before.name == name
    step_shown = user.replies[-1]
    await user.say(side)
    assert await _state(app, user) == before                      # untouched
    again = user.replies[-1]
    assert offered(again) == offered(step_shown)                  # the same step, answerable the same way
    if not offered(step_shown):
        assert again.text == step_shown.text or again.text in step_shown.text
    await user.say(answer)
    after = await _state(app, user)
    assert after != before                                        # the answer landed on that step
    not_understood = {app.services.translate(k, lang) for k in ("error.not_understood", "quiz.answer_please",
                                                                  "error.stale_button") for lang in ("zh", "en")}
    assert not not_understood & {r.text for r in user.replies}


async def test_after_lang_a_letter_still_answers_the_quiz_and_the_language_words_switch(app, demo_class):
    user, _ = await open_quiz(app, demo_class)
    await user.say("/lang")
    await user.say("English")                                     # the language menu's own words
    account = await app.store.accounts.find(user.platform, user.key)
    assert account.language == "en"
    assert user.replies[-1].quiz is not None                      # the question again, now in English
    await user.say("Ｂ")                                         # a full-width letter answers it
    assert (await _state(app, user)).data["position"] == 1


async def test_a_conversation_started_in_the_middle_of_another_hands_back_when_it_ends(app, demo_class):
    user, _ = await open_quiz(app, demo_class)
    question = user.replies[-1]
    await user.say("/checkin")                                    # a conversation of its own, in the middle
    for _ in range(app.config.program.checkin_questions):
        await user.say("没有")
    assert offered(user.replies[-1]) == offered(question)         # done: the quiz question is back
    await user.say("B")
    assert (await _state(app, user)).data["position"] == 1


async def test_cancel_leaves_every_conversation(app, demo_class):
    user, _ = await open_quiz(app, demo_class)
    await user.say("/checkin")
    await user.say("/cancel")
    assert await _state(app, user) is None


async def test_advice_in_the_middle_of_a_quiz_asks_its_question_once(app, demo_class):
    user, _ = await open_quiz(app, demo_class)
    await user.say("/ask")
    await user.say("有人给我打电话说我中奖了")                      # unsure: one clarifying question
    clarify = app.services.translate("advice.clarify", "zh")
    assert [r.text for r in user.replies].count(clarify) <= 1
