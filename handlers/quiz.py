"""Quizzes: /quiz is the awareness test (balanced across types), /quiz <type_id> practises one type."""

from __future__ import annotations

import dataclasses
import random

from bot.buttondata import ButtonData
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, QuizSpec, text
from bot.library.model import LETTERS, QuizQuestion
from handlers.common import button_arg, find_type
from handlers.picking import balanced_quiz, rng_for

CONVERSATION = "quiz"
ANSWER_DATA = ButtonData("qz:a:", (("attempt", int), ("position", int), ("shown", int)),
                         widest=(10 ** 12 - 1, 99, 9))
ANSWER = ANSWER_DATA.prefix
REVIEW = "qz:review:"


def option_order(question: QuizQuestion, attempt_id: int, position: int) -> list[int]:
    """The order one attempt shows a question's options in: shuffled per attempt, the same every time it is drawn.

    Buttons carry the shown position; order[shown] is the option as written in the library.
    """
    order = list(range(len(question.zh.options)))
    random.Random(f"quiz-order:{attempt_id}:{position}:{question.id}").shuffle(order)
    return order


def question_spec(question: QuizQuestion, lang: str, prefix: str, number: int, total: int,
                  open_seconds: int | None = None, order: list[int] | None = None) -> Outgoing:
    """A quiz question as an Outgoing.quiz: buttons or a quiz poll, or lettered options on text platforms."""
    qt = question.text(lang)
    order = order or list(range(len(qt.options)))
    return Outgoing(quiz=QuizSpec(
        question=f"({number}/{total}) {qt.question}", options=[qt.options[i] for i in order],
        correct_index=order.index(question.answer), explanation=qt.explanation, answer_prefix=prefix,
        open_seconds=open_seconds,
    ))


def feedback(ctx: Context, question: QuizQuestion, chosen: int, order: list[int] | None = None) -> str:
    """'Right' or the right answer (with the letter it was shown under), then the explanation."""
    qt = question.text(ctx.lang)
    order = order or list(range(len(qt.options)))
    if chosen == question.answer:
        head = ctx.t("quiz.right")
    else:
        shown = order.index(question.answer)
        head = ctx.t("quiz.wrong", answer=f"{LETTERS[shown]}. {qt.options[question.answer]}")
    return f"{head}\n{qt.explanation}"


def type_list(ctx: Context) -> str:
    """'/quiz id — name' for every type, to choose one."""
    return "\n".join(f"/quiz {t.id} — {t.name.get(ctx.lang)}" for t in ctx.library.types.values() if t.quiz)


async def start_quiz(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Start the awareness test, or a quiz on one type."""
    assert ctx.person is not None
    asked = msg.payload.strip()
    type_id = find_type(ctx.library, asked) if asked else None
    if asked and (type_id is None or not ctx.library.types[type_id].quiz):
        return [text(ctx.t("quiz.unknown_type", type=asked[:32]) + "\n" + type_list(ctx))]
    size = ctx.config.program.quiz_size
    rng = rng_for("quiz", ctx.person.id, ctx.clock.now().isoformat())
    questions = balanced_quiz(ctx.library, size, rng, type_id)
    kind = "type" if type_id else "awareness"
    attempt = await ctx.store.quizzes.start(ctx.person.id, kind, [q.id for q in questions], fraud_type=type_id)
    ctx.begin(CONVERSATION, "asking", attempt=attempt, position=0)
    if type_id:
        intro = ctx.t("quiz.intro_type", type=ctx.library.type(type_id).name.get(ctx.lang), count=len(questions))
    else:
        intro = ctx.t("quiz.intro", count=len(questions), pass_score=ctx.config.program.pass_score)
    first = _attempt_question(ctx, questions[0], attempt, 0, len(questions))
    return [text(intro + "\n" + ctx.t("quiz.how_to_answer")), first]


async def answer_quiz(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """An answer: record it, explain, then the next question or the score."""
    assert ctx.person is not None
    data = ANSWER_DATA.unpack(msg.payload)
    if data is None:
        return [text(ctx.t("error.stale_button"))]
    attempt_id, position, shown = data["attempt"], data["position"], data["shown"]
    attempt = await ctx.store.quizzes.get(attempt_id)
    if attempt is None or attempt.person_id != ctx.person.id:
        return [text(ctx.t("error.stale_button"))]
    if attempt.finished_at is not None:
        return [text(ctx.t("quiz.already_finished"))]
    ids = list(attempt.questions)
    if position >= len(ids):
        return [text(ctx.t("quiz.already_answered"))]
    question = ctx.library.quiz_by_id(ids[position])
    if question is None or not 0 <= shown < len(question.text(ctx.lang).options):
        return [text(ctx.t("error.stale_button"))]
    order = option_order(question, attempt_id, position)
    chosen = order[shown]             # stored as the library's option, whatever order it was shown in
    answers = await ctx.store.quizzes.answers(attempt_id)
    answered = len(answers)
    # The same answer to the last answered question: handled again after a crash lost its reply (or a
    # double tap). Answer as the first time did, so the next question comes instead of a dead end.
    again = position == answered - 1 and answers[-1].chosen == chosen
    if not again and position != answered:
        return [text(ctx.t("quiz.already_answered"))]
    if not again:
        await ctx.store.quizzes.answer(attempt_id, position, question.id, chosen, chosen == question.answer)
    replies = [text(feedback(ctx, question, chosen, order))]
    following = position + 1
    if following < len(ids):
        next_question = ctx.library.quiz_by_id(ids[following])
        if next_question is not None:
            ctx.begin(CONVERSATION, "asking", attempt=attempt_id, position=following)
            replies.append(_attempt_question(ctx, next_question, attempt_id, following, len(ids)))
            return replies
    replies.append(await _finish(ctx, attempt_id, attempt.kind, attempt.fraud_type))
    return replies


async def _finish(ctx: Context, attempt_id: int, kind: str, fraud_type: str | None) -> Outgoing:
    ctx.end()
    score, passed = await ctx.store.quizzes.finish(attempt_id, ctx.config.program.pass_score)
    attempt = await ctx.store.quizzes.get(attempt_id)
    lines = [ctx.t("quiz.score", score=score, correct=attempt.correct, total=attempt.total)]
    if kind == "awareness":
        lines.append(ctx.t("quiz.passed") if passed else ctx.t("quiz.not_passed",
                                                                pass_score=ctx.config.program.pass_score))
    retake = f"/quiz {fraud_type}" if fraud_type else "/quiz"
    buttons = [Button(ctx.t("quiz.retake"), retake)]
    if attempt.correct < attempt.total:
        buttons.insert(0, Button(ctx.t("quiz.review"), f"{REVIEW}{attempt_id}"))
    return text("\n".join(lines), buttons)


async def review_quiz(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The wrong answers of an attempt: the question, what was chosen, the right answer and why."""
    assert ctx.person is not None
    arg = button_arg(msg.payload, REVIEW)
    attempt = await ctx.store.quizzes.get(int(arg)) if arg.isdigit() else None
    if attempt is None or attempt.person_id != ctx.person.id:
        return [text(ctx.t("error.stale_button"))]
    blocks = []
    for row in await ctx.store.quizzes.answers(attempt.id):
        question = ctx.library.quiz_by_id(row.question_id)
        if row.correct or question is None:
            continue
        qt = question.text(ctx.lang)
        chosen = row.chosen
        order = option_order(question, attempt.id, row.position)
        yours = (f"{LETTERS[order.index(chosen)]}. {qt.options[chosen]}" if 0 <= chosen < len(qt.options)
                 else ctx.t("quiz.timed_out"))
        blocks.append(ctx.t("quiz.review_item", question=qt.question, yours=yours,
                            right=f"{LETTERS[order.index(question.answer)]}. {qt.options[question.answer]}",
                            explanation=qt.explanation))
    if not blocks:
        return [text(ctx.t("quiz.review_none"))]
    retake = f"/quiz {attempt.fraud_type}" if attempt.fraud_type else "/quiz"
    return [text(ctx.t("quiz.review_title") + "\n\n" + "\n\n".join(blocks), [Button(ctx.t("quiz.retake"), retake)])]


async def continue_quiz(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Text in the middle of a quiz: a letter answers the current question, anything else is told how to answer.

    A letter also arrives for a poll answer whose poll record a crash lost: it is not dropped.
    """
    letter = msg.payload.strip().upper()
    data = ctx.state.data if ctx.state is not None else {}
    if len(letter) == 1 and letter in LETTERS and data.get("attempt") is not None and data.get("position") is not None:
        shown = LETTERS.index(letter)
        pressed = dataclasses.replace(msg, payload=ANSWER_DATA.pack(data["attempt"], data["position"], shown))
        return await answer_quiz(pressed, ctx)
    return [text(ctx.t("quiz.answer_please"))]


async def show_question(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The question the attempt stands at, again (after a side question)."""
    attempt_id, position = ctx.state.data.get("attempt"), ctx.state.data.get("position", 0)
    attempt = await ctx.store.quizzes.get(attempt_id) if attempt_id else None
    if attempt is None or attempt.finished_at is not None:
        return []
    ids = list(attempt.questions)
    question = ctx.library.quiz_by_id(ids[position]) if position < len(ids) else None
    if question is None:
        return []
    return [_attempt_question(ctx, question, attempt_id, position, len(ids))]


def _attempt_question(ctx: Context, question: QuizQuestion, attempt_id: int, position: int, total: int) -> Outgoing:
    """Question `position` of an attempt, its options in that attempt's shuffled order."""
    return question_spec(question, ctx.lang, ANSWER_DATA.prefix_for(attempt_id, position), position + 1, total,
                         order=option_order(question, attempt_id, position))


FLOW = Conversation(CONVERSATION, {"asking": continue_quiz}, show_question, buttons=(ANSWER,), commands=("quiz",))
