"""Handlers handled twice (a crash between their writes and the inbox's 'handled' mark, or a double tap)."""

from __future__ import annotations

from tests.office_support import chat
from tests.telegram_rig import tg  # noqa: F401  (the fixture)
from tests.test_office_access import people  # noqa: F401  (the fixture)


async def _conversation(app) -> list[tuple]:
    return [tuple(r) for r in await app.store.db.fetchall("SELECT * FROM conversations ORDER BY account_id")]


async def _restore(app, rows: list[tuple]) -> None:
    """Put the conversations back as they were: the crash lost the step's save."""
    await app.store.db.execute("DELETE FROM conversations")
    for row in rows:
        marks = ",".join("?" * len(row))
        await app.store.db.execute(f"INSERT INTO conversations VALUES ({marks})", row)


async def test_a_publish_handled_again_after_a_crash_sends_nobody_anything_twice(app, people):  # noqa: F811
    sec = chat(app, "SEC")
    await sec.say("/warn")
    await sec.say("brushing-1")
    await sec.press_label("新生")
    before = await _conversation(app)
    publish = next(b.data for r in sec.replies for b in r.flat_buttons() if "确认发布" in b.label)
    await sec.press(publish)
    first = sec.text
    await _restore(app, before)             # the handled mark never committed: the press runs again
    await sec.press(publish)
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM office_warnings") == 1
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 3
    assert sec.text == first and "3 条进入发送队列" in sec.text


async def test_a_quiz_answer_handled_again_shows_the_next_question(app, user_factory, demo_class):
    from tests.program_support import bound_users
    from tests.test_program_flows import _quiz

    (carol,) = await bound_users(user_factory, demo_class, "carol")
    await carol.say("/quiz")
    spec = _quiz(carol.replies)
    answer = f"{spec.answer_prefix}{spec.correct_index}"
    before = await _conversation(app)
    await carol.press(answer)
    first = _quiz(carol.replies).question
    await _restore(app, before)          # the answer committed, the step's save and the reply did not
    await carol.press(answer)
    assert _quiz(carol.replies).question == first and first.startswith("(2/10)")
    attempt = spec.answer_prefix.split(":")[2]
    assert await app.store.db.fetchval("SELECT correct FROM quiz_attempts WHERE id = ?", (attempt,)) == 1


async def test_a_letter_answers_the_current_question_as_a_lost_poll_answer_arrives(app, user_factory, demo_class):
    from tests.program_support import bound_users
    from tests.test_program_flows import _quiz

    (dan,) = await bound_users(user_factory, demo_class, "dan")
    await dan.say("/quiz")
    spec = _quiz(dan.replies)
    await dan.say("ABCD"[spec.correct_index])
    assert _quiz(dan.replies).question.startswith("(2/10)")


async def test_done_tapped_twice_at_the_evidence_step_shows_the_preview(app, demo_class):
    from tests.test_report_flow import make_person, security_channel

    security_channel(app)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await student.say("/report")
    await student.press("rep:money:no")
    await student.say("有个陌生人加我QQ说可以刷单返利，我没理他")
    for _ in range(3):
        await student.press("rep:skip")
    await student.say("QQ 55667788")
    await student.press("rep:done")
    await student.press("rep:done")          # evidence -> preview
    shown = student.text
    await student.press("rep:done")          # the second tap
    assert student.text == shown
    await student.press("rep:skip")          # any stale press at the preview shows it again, no crash
    await student.press("rep:submit")
    assert "R-2026-000001" in student.text


async def test_a_poll_answer_whose_poll_record_was_lost_still_answers_the_question(tg, demo_class):  # noqa: F811
    tg.app.config.program.quiz_size = 3
    await tg.bind(601, demo_class.join_code, "20231009", lang="en")
    await tg.say(601, "/quiz")
    params = tg.api.calls_of("sendPoll")[-1].params
    poll_id = [m for m in tg.api.sent_to(601) if "poll" in m][-1]["poll"]["id"]
    await tg.app.store.db.execute("DELETE FROM telegram_polls")      # the crash came between send and record
    tg.api.poll_answer(601, poll_id, params["correct_option_ids"])
    await tg.settle()
    assert len(tg.api.calls_of("sendPoll")) == 2                     # the next question came
    attempt = await tg.app.store.db.fetchval("SELECT correct FROM quiz_attempts")
    assert attempt == 1
