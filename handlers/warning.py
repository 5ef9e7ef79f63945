"""Case warnings: a story with its red flags and a "what would you do" question that leads to the explanation."""

from __future__ import annotations

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.library.model import LETTERS, Case, Library
from handlers.common import bullet_list
from handlers.picking import pick_case, rng_for

PREFIX = "warn:"


def case_message(translate, library: Library, case: Case, lang: str, intro: str = "") -> Outgoing:
    """The story and the question, with one button per option."""
    story = case.text(lang)
    head = translate("warning.title", lang, title=story.title)
    parts = [intro, head, story.story, translate("warning.question", lang, question=story.question)]
    buttons = [Button(f"{LETTERS[i]}. {option}", f"{PREFIX}{case.id}:{i}") for i, option in enumerate(story.options)]
    return Outgoing(text="\n\n".join(p for p in parts if p), buttons=[[b] for b in buttons])


async def show_case(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/case: a case story the person has not had yet (by their tags; or of one type: /case job)."""
    assert ctx.person is not None
    type_id = msg.payload.strip().lower()
    if type_id and type_id not in ctx.library.types:
        return [text(ctx.t("warning.unknown_type", type=type_id[:32]))]
    seen = await ctx.store.warnings.sent_to(ctx.person.id)
    types = (type_id,) if type_id else ()
    rng = rng_for("case", ctx.person.id, ctx.clock.now().isoformat())
    case = pick_case(ctx.library, ctx.person.tag_set, rng, exclude=seen, types=types)
    if case is None:   # every story read: show one again rather than nothing
        case = pick_case(ctx.library, ctx.person.tag_set, rng, types=types)
    assert case is not None
    return [case_message(ctx.services.translate, ctx.library, case, ctx.lang)]


async def answer_case(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """An option pressed: right or not, then the explanation, the turning point, the lesson and red flags."""
    assert ctx.person is not None
    case_id, _, index = msg.payload[len(PREFIX):].rpartition(":")
    case = ctx.library.case_by_id(case_id)
    if case is None or not index.isdigit() or int(index) >= len(case.text(ctx.lang).options):
        return [text(ctx.t("error.stale_button"))]
    chosen = int(index)
    right = chosen == case.answer
    await ctx.store.warnings.answer(ctx.person.id, case.id, case.fraud_type, chosen, right, ctx.today())
    story = case.text(ctx.lang)
    fraud_type = ctx.library.type(case.fraud_type)
    verdict = ctx.t("warning.right") if right else ctx.t(
        "warning.wrong", answer=f"{LETTERS[case.answer]}. {story.options[case.answer]}")
    body = "\n\n".join([
        verdict,
        story.explanation,
        ctx.t("warning.turning_point", text=story.turning_point),
        ctx.t("warning.lesson", text=story.lesson),
        ctx.t("warning.red_flags") + "\n" + bullet_list(fraud_type.red_flags.get(ctx.lang)[:4]),
    ])
    return [text(body, [Button(ctx.t("warning.learn"), f"/learn {case.fraud_type}"),
                        Button(ctx.t("warning.quiz"), f"/quiz {case.fraud_type}")])]
