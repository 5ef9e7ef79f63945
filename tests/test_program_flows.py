"""Pledge, self-check, quizzes (scoring, retakes, fuzzy answers), contests and the green status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.library.model import Pledge
from handlers.progress import person_progress
from tests.program_support import bound_users


def _quiz(reply):
    quizzes = [r for r in reply if r.quiz is not None]
    return quizzes[-1].quiz if quizzes else None


async def test_pledge_sign_and_sign_again_on_a_new_version(app, user_factory, demo_class):
    (alice,) = await bound_users(user_factory, demo_class, "alice")
    await alice.say("/pledge")
    assert "承诺" in alice.text
    await alice.press("pledge:sign:1")
    assert "✅" in alice.text
    person = await app.store.people.by_number("2023001")
    assert (await app.store.pledges.latest(person.id))[0] == 1
    await alice.say("/me")
    assert "已签署当前版本" in alice.text
    # The office publishes version 2: Alice is asked again.
    old = app.services.library.pledge
    app.services.library.pledge = Pledge(2, old.text)
    await alice.say("/me")
    assert "重新签署" in alice.text
    await alice.say("/pledge")
    assert "更新" in alice.text
    await alice.press("pledge:sign:1")          # a button under the old text
    assert "旧版本" in alice.text
    await alice.press_label("我已阅读并承诺")
    assert (await app.store.pledges.latest(person.id))[0] == 2


async def test_checkin_records_answers_gives_advice_and_counts_streak(app, user_factory, demo_class):
    (bob,) = await bound_users(user_factory, demo_class, "bob")
    await bob.say("/checkin")
    assert "1/3" in bob.text
    first_data = bob.replies[-1].flat_buttons()[0].data
    check = app.services.library.selfcheck_by_id(first_data.split(":")[2])
    await bob.say("是" if check.risky == "yes" else "否")     # the risky answer, typed
    assert "⚠️" in bob.text and "110" in bob.text
    await bob.say("2")
    await bob.say("2")
    assert "已完成" in bob.text
    person = await app.store.people.by_number("2023001")
    assert len(await app.store.checkins.answered_on(person.id, "2026-11-23")) == 3
    await bob.say("/checkin")
    assert "已完成" in bob.text


async def test_quiz_scoring_passing_review_and_retake(app, user_factory, demo_class):
    (carol,) = await bound_users(user_factory, demo_class, "carol", lang="en")
    await carol.say("/quiz")
    spec = _quiz(carol.replies)
    assert spec.answer_prefix.startswith("qz:a:") and spec.question.startswith("(1/10)")
    for number in range(10):
        wrong = number == 0
        choice = (spec.correct_index + 1) % 4 if wrong else spec.correct_index
        await carol.press(f"{spec.answer_prefix}{choice}")
        spec = _quiz(carol.replies) if number < 9 else None
    assert "90 points" in carol.text and "Passed" in carol.text
    person = await app.store.people.by_number("2023001")
    assert await app.store.quizzes.has_passed(person.id)
    await carol.press_label("Review mistakes")
    assert "Right answer" in carol.text and carol.text.count("❓") == 1
    await carol.press_label("Retake")
    assert _quiz(carol.replies).question.startswith("(1/10)")
    progress = await person_progress_for(app, carol)
    assert progress.passed and progress.best_score == 90


async def person_progress_for(app, user):
    from bot.context import Context

    account = await app.store.accounts.find("test", user.key)
    person = await app.store.people.get(account.person_id)
    return await person_progress(Context(app.services, account, person, "en"), person.id)


async def test_quiz_takes_letters_numbers_chinese_and_option_words(app, user_factory, demo_class):
    (dan,) = await bound_users(user_factory, demo_class, "dan")
    await dan.say("/quiz")
    attempt = int(_quiz(dan.replies).answer_prefix.split(":")[2])
    shown = []
    for typed, index in (("选B", 1), ("3", 2), ("d", 3)):
        shown.append(_quiz(dan.replies).options[index])
        await dan.say(typed)
    spec = _quiz(dan.replies)
    await dan.say(spec.options[spec.correct_index])          # the option's own words
    shown.append(spec.options[spec.correct_index])
    rows = await app.store.quizzes.answers(attempt)
    # Options are shuffled per attempt: what is stored is the option the person saw under that letter.
    stored = [app.services.library.quiz_by_id(r.question_id).zh.options[r.chosen] for r in rows]
    assert stored == shown and rows[3].correct
    await dan.say("hello there")
    assert "A-D" in dan.text


async def test_quiz_on_one_type_and_unknown_type(app, user_factory, demo_class):
    (eve,) = await bound_users(user_factory, demo_class, "eve")
    await eve.say("/quiz job")
    spec = _quiz(eve.replies)
    first = app.services.library.quiz_by_id(
        (await app.store.db.fetchval("SELECT questions FROM quiz_attempts ORDER BY id DESC LIMIT 1"))[2:-2].split('", "')[0]
    )
    assert first.fraud_type == "job" and spec is not None
    await eve.say("/quiz nosuchtype")
    assert "/quiz job" in eve.text


async def test_contest_leaderboards_and_time_limit(app, user_factory, demo_class, clock):
    monitor, s1, s2 = await bound_users(user_factory, demo_class, "mon", "s1", "s2")
    boss = await app.store.people.by_number("2023001")
    await app.store.people.set_role(boss.id, "monitor")
    await monitor.bind_invited(boss.person_no)
    app.config.program.contest_questions = 3
    await monitor.say("/contest")
    assert "#1" in monitor.text
    for user, late in ((s1, False), (s2, True)):
        await user.press("ct:join:1")
        for _ in range(3):
            spec = _quiz(user.replies)
            assert spec.open_seconds == 30
            if late:
                clock.advance(seconds=40)
            else:
                clock.advance(seconds=5)
            await user.press(f"{spec.answer_prefix}{spec.correct_index}")
        assert "🏁" in user.text
    assert "1/2" in s1.text or "第 1/" in s1.text
    await s2.press("ct:join:1")
    assert "只有一次" in s2.text
    board = await app.store.contests.individual_board(1)
    assert [r.score for r in board] == [100, 0]
    await s1.press("ct:board:1")
    assert "结束后" in s1.text                      # students see it once the contest closes
    await monitor.press("ct:end:1")
    assert "排行榜" in monitor.text and "20***02" in monitor.text   # numbers are masked
    assert "班级平均分" in monitor.text and "50.0" in monitor.text
    await s1.press("ct:board:1")
    assert "100 分" in s1.text
    await s1.say("/contest")
    assert "不能使用" in s1.text


async def test_green_needs_pledge_pass_and_five_checkins(app, user_factory, demo_class):
    (fay,) = await bound_users(user_factory, demo_class, "fay")
    person = await app.store.people.by_number("2023001")
    progress = await person_progress_for(app, fay)
    assert not progress.green
    await app.store.pledges.sign(person.id, 1, "test")
    attempt = await app.store.quizzes.start(person.id, "awareness", ["x"])
    await app.store.quizzes.answer(attempt, 0, "x", 0, True)
    await app.store.quizzes.finish(attempt, 80)
    for back in range(4):
        day = (date(2026, 11, 23) - timedelta(days=back)).isoformat()
        await app.store.checkins.record(person.id, day, "q", "no", False)
    progress = await person_progress_for(app, fay)
    assert not progress.green and progress.checkin_days_7 == 4 and progress.streak == 4
    await app.store.checkins.record(person.id, "2026-11-18", "q", "no", False)
    progress = await person_progress_for(app, fay)
    assert progress.green
    await fay.say("/me")
    assert "🟢" in fay.text


async def test_a_second_contest_command_shows_the_open_one_instead_of_starting_another(app, user_factory, demo_class,
                                                                                       clock):
    monitor, _s1 = await bound_users(user_factory, demo_class, "mon", "s1")
    boss = await app.store.people.by_number("2023001")
    await app.store.people.set_role(boss.id, "monitor")
    await monitor.bind_invited(boss.person_no)
    await monitor.say("/contest")
    assert "#1" in monitor.text
    invitations = await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign LIKE 'contest:%'")
    await monitor.say("/contest")                    # a monitor coming back for the leaderboard
    assert "#1" in monitor.text and "#2" not in monitor.text
    assert [b.data for b in monitor.replies[-1].flat_buttons()] == ["ct:board:1", "ct:end:1"]
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM contests") == 1
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox WHERE campaign LIKE 'contest:%'") == invitations
    clock.advance(minutes=app.config.program.contest_minutes + 1)
    await monitor.say("/contest")                    # once it is over, a new one starts
    assert "#2" in monitor.text


@pytest.mark.parametrize(("questions", "counts"), [(10, True), (3, False)])
async def test_a_contest_counts_as_the_awareness_test_only_under_the_tests_rules(app, user_factory, demo_class,
                                                                                  clock, questions, counts):
    monitor, s1 = await bound_users(user_factory, demo_class, "mon", "s1")
    boss = await app.store.people.by_number("2023001")
    await app.store.people.set_role(boss.id, "monitor")
    await monitor.bind_invited(boss.person_no)
    app.config.program.contest_questions = questions        # the test draws program.quiz_size (10)
    await monitor.say("/contest")
    await s1.press("ct:join:1")
    for _ in range(questions):
        spec = _quiz(s1.replies)
        clock.advance(seconds=5)
        await s1.press(f"{spec.answer_prefix}{spec.correct_index}")
    assert "🏁" in s1.text
    person = await app.store.people.by_number("2023002")
    assert await app.store.quizzes.has_passed(person.id) is counts


def test_the_options_are_shuffled_per_attempt_so_no_position_gives_the_answer_away(app):
    from collections import Counter

    from handlers.quiz import option_order

    library = app.services.library
    shown = Counter()
    for attempt in range(1, 41):
        for position, question in enumerate(library.all_quiz()[:50]):
            shown[option_order(question, attempt, position).index(question.answer)] += 1
    total = sum(shown.values())
    assert all(abs(shown[i] / total - 0.25) <= 0.025 for i in range(4)), shown      # each letter 25% ± 10%
    question = library.all_quiz()[0]
    assert option_order(question, 1, 0) == option_order(question, 1, 0)               # the same on every redraw
    assert len({tuple(option_order(question, a, 0)) for a in range(1, 30)}) > 6        # not the same per attempt


def test_the_quiz_cue_measure_finds_the_longest_right_option_and_giveaways(app):
    import dataclasses

    from bot.library.loader import quiz_cues
    from bot.library.model import QuestionText

    library = app.services.library
    question = library.all_quiz()[0]
    zh = QuestionText(question.zh.question, ("短", "以上都对", "中等长度", "这是最长的一个正确选项"),
                      question.zh.explanation)
    cue_zh, _ = quiz_cues(dataclasses.replace(library, types={question.fraud_type: dataclasses.replace(
        library.types[question.fraud_type], quiz=(dataclasses.replace(question, zh=zh, answer=3),))}))
    assert cue_zh.longest == [question.id] and cue_zh.giveaways == [question.id] and cue_zh.longest_share == 1.0
