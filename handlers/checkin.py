"""The daily self-check: 1-3 yes/no questions, advice at once for a risky answer, streaks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.choices import is_no, is_yes
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.library.matcher import detect_intent
from bot.library.model import Library, SelfCheck
from handlers.picking import pick_selfchecks, rng_for

PREFIX = "ci:"
CONVERSATION = "checkin"
SHORT_ANSWER = 12          # longer text at a question is something else the person wants to say
ROTATE_DAYS = 7          # a question answered this recently is not asked again if others remain


def day_before(day: str, days: int = 1) -> str:
    """The local day `days` before day."""
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def questions_for(library: Library, person_id: int, tags: set[str], day: str, count: int,
                  recent: set[str]) -> list[SelfCheck]:
    """The person's questions of the day: the same all day, rotating, leaning to their exposed types."""
    return pick_selfchecks(library, tags, count, rng_for("checkin", person_id, day), avoid=recent)


def question_message(translate, lang: str, check: SelfCheck, day: str, number: int, total: int) -> Outgoing:
    """One yes/no self-check question."""
    body = translate("checkin.question", lang, number=number, total=total, question=check.question.get(lang))
    return text(body, [Button(translate("common.yes", lang), f"{PREFIX}{day}:{check.id}:yes"),
                       Button(translate("common.no", lang), f"{PREFIX}{day}:{check.id}:no")])


async def _todays(ctx: Context, day: str) -> list[SelfCheck]:
    assert ctx.person is not None
    recent = await ctx.store.checkins.recent_question_ids(ctx.person.id, day_before(day, ROTATE_DAYS), day)
    return questions_for(ctx.library, ctx.person.id, ctx.person.tag_set, day,
                         ctx.config.program.checkin_questions, recent)


async def _next_or_done(ctx: Context, day: str) -> list[Outgoing]:
    assert ctx.person is not None
    questions = await _todays(ctx, day)
    answered = await ctx.store.checkins.answered_on(ctx.person.id, day)
    waiting = [q for q in questions if q.id not in answered]
    if waiting:
        number = len(questions) - len(waiting) + 1
        ctx.begin(CONVERSATION, "question", day=day, question=waiting[0].id)
        return [question_message(ctx.services.translate, ctx.lang, waiting[0], day, number, len(questions))]
    if ctx.in_conversation(CONVERSATION):
        ctx.end()
    streak = await ctx.store.checkins.streak(ctx.person.id, ctx.today())
    days = await ctx.store.checkins.days(ctx.person.id, day_before(ctx.today(), 6))
    return [text(ctx.t("checkin.done", streak=streak, days=len(days)))]


async def start_checkin(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/checkin: today's questions (or the note that today is done)."""
    return await _next_or_done(ctx, ctx.today())


async def answer_checkin(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A yes/no answer: store it, give advice if it was risky, then the next question."""
    assert ctx.person is not None
    parts = msg.payload[len(PREFIX):].rsplit(":", 1)
    head, answer = (parts[0], parts[1]) if len(parts) == 2 else ("", "")
    day, _, question_id = head.partition(":")
    check = ctx.library.selfcheck_by_id(question_id)
    if check is None or answer not in ("yes", "no"):
        return [text(ctx.t("error.stale_button"))]
    today = ctx.today()
    if day not in (today, day_before(today)):
        return [text(ctx.t("checkin.expired"))] + await _next_or_done(ctx, today)
    risky = answer == check.risky
    stored = await ctx.store.checkins.record(ctx.person.id, day, check.id, answer, risky)
    replies: list[Outgoing] = []
    if not stored:
        replies.append(text(ctx.t("checkin.already")))
    elif risky:
        type_name = ctx.library.type(check.fraud_type).name.get(ctx.lang)
        replies.append(text(
            ctx.t("checkin.risky", advice=check.advice.get(ctx.lang), type=type_name),
            [Button(ctx.t("checkin.report"), f"/report {check.fraud_type}"),
             Button(ctx.t("checkin.learn"), f"/learn {check.fraud_type}")],
        ))
    else:
        replies.append(text(ctx.t("checkin.safe")))
    return replies + await _next_or_done(ctx, day)


async def answer_in_words(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Text at a self-check question: yes / no in words answer it; anything else asks again."""
    data = ctx.state.data
    answer = "yes" if is_yes(msg.payload) else "no" if is_no(msg.payload) else None
    if answer is None and (len(msg.payload.strip()) > SHORT_ANSWER or detect_intent(msg.payload)):
        return await ctx.routes.free_text(msg, ctx)       # something else to say: hear it out
    if answer is None or msg.media is not None:
        return [text(ctx.t("checkin.yes_or_no")), *await show_question(msg, ctx)]
    pressed = replace(msg, payload=f"{PREFIX}{data['day']}:{data['question']}:{answer}")
    return await answer_checkin(pressed, ctx)


async def show_question(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The self-check question waiting to be answered, again (a day that can no longer be answered ends it)."""
    day = ctx.state.data.get("day", "")
    if day not in (ctx.today(), day_before(ctx.today())):
        ctx.end()
        return []
    return await _next_or_done(ctx, day)


FLOW = Conversation(CONVERSATION, {"question": answer_in_words}, show_question, buttons=(PREFIX,),
                    commands=("checkin",))
