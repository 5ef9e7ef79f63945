"""Contests: the security office (or a monitor, for their class) times the same questions for an audience."""

from __future__ import annotations

from datetime import timedelta

from bot.buttondata import ButtonData
from bot.clock import iso, parse_iso
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.roles import CONTEST_STARTERS
from handlers.common import button_arg
from handlers.picking import balanced_quiz, rng_for
from handlers.quiz import feedback, option_order, question_spec

CONVERSATION = "contest"
NEW = "ct:new:"            # ct:new:<scope>:<value>
JOIN = "ct:join:"          # ct:join:<contest>
ANSWER_DATA = ButtonData("ct:a:", (("contest", int), ("position", int), ("shown", int)),
                         widest=(10 ** 12 - 1, 99, 9))
ANSWER = ANSWER_DATA.prefix
BOARD = "ct:board:"
END = "ct:end:"
GRACE_S = 3                # network and reading delay forgiven on top of the time limit


def _minutes_text(ctx: Context, moment) -> str:
    return moment.astimezone(ctx.config.tz).strftime("%H:%M")


async def start_contest(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/contest [school | college <name> | class <name>] ; /contest end <id> ; /contest board <id>."""
    assert ctx.person is not None
    words = msg.payload.split(maxsplit=1)
    verb = words[0].lower() if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if verb in ("end", "结束") and rest.lstrip("#").isdigit():
        return await _end(ctx, int(rest.lstrip("#")))
    if verb in ("board", "results", "排行", "排行榜") and rest.lstrip("#").isdigit():
        return await _board_reply(ctx, int(rest.lstrip("#")))
    classes = await ctx.store.people.responsible_classes(ctx.person)
    if ctx.role != "security":
        if verb == "class" and rest:
            klass = await ctx.store.classes.by_name(rest)
            if klass is None or klass.id not in classes:
                return [text(ctx.t("contest.not_your_class"))]
            return await _create(ctx, "class", str(klass.id))
        if len(classes) == 1:
            return await _create(ctx, "class", str(classes[0]))
        if not classes:
            return [text(ctx.t("contest.no_class"))]
        names = [await ctx.store.classes.get(c) for c in classes]
        return [text(ctx.t("contest.choose_class"),
                     *[[Button(k.name, f"{NEW}class:{k.id}")] for k in names if k is not None])]
    if verb in ("school", "all", "全校"):
        return await _create(ctx, "school", "")
    if verb in ("college", "学院") and rest:
        return await _create(ctx, "college", rest)
    if verb in ("class", "班级") and rest:
        klass = await ctx.store.classes.by_name(rest)
        if klass is None:
            return [text(ctx.t("contest.no_such_class", name=rest[:40]))]
        return await _create(ctx, "class", str(klass.id))
    return [text(ctx.t("contest.usage"), [Button(ctx.t("contest.whole_school"), f"{NEW}school:")])]


async def new_contest_button(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A scope chosen from the buttons of /contest."""
    assert ctx.person is not None
    scope, _, value = button_arg(msg.payload, NEW).partition(":")
    if scope == "school" and ctx.role == "security":
        return await _create(ctx, "school", "")
    if scope == "class" and value.isdigit():
        allowed = ctx.role == "security" or int(value) in await ctx.store.people.responsible_classes(ctx.person)
        if allowed:
            return await _create(ctx, "class", value)
    return [text(ctx.t("contest.not_your_class"))]


async def _create(ctx: Context, scope: str, value: str) -> list[Outgoing]:
    assert ctx.person is not None
    program = ctx.config.program
    running = await ctx.store.contests.open_for(scope, value, iso(ctx.clock.now()))
    if running is not None:   # /contest again (often to see the board) must not re-invite the class to a second one
        return [text(ctx.t("contest.already_open", id=running.id,
                           until=_minutes_text(ctx, parse_iso(running.closes_at))),
                     [Button(ctx.t("contest.show_board"), f"{BOARD}{running.id}"),
                      Button(ctx.t("contest.end_now"), f"{END}{running.id}")])]
    people = await ctx.store.audience.reachable(scope, value)
    if not people:
        return [text(ctx.t("contest.nobody"))]
    rng = rng_for("contest", ctx.person.id, ctx.clock.now().isoformat())
    questions = balanced_quiz(ctx.library, program.contest_questions, rng)
    closes = ctx.clock.now() + timedelta(minutes=program.contest_minutes)
    contest_id = await ctx.store.contests.create(ctx.person.id, scope, value, [q.id for q in questions],
                                                 program.contest_seconds, iso(closes))
    await ctx.audit("contest.start", f"contest:{contest_id}", scope=scope, value=value, people=len(people))
    translate = ctx.services.translate
    default = ctx.config.general.default_language

    def invitation(account) -> Outgoing:
        lang = account.language or default
        return text(translate("contest.invite", lang, count=len(questions), seconds=program.contest_seconds,
                              until=_minutes_text(ctx, closes)),
                    [Button(translate("contest.join", lang), f"{JOIN}{contest_id}")])

    summary = await ctx.outbox.push_many(f"contest:{contest_id}", [(pid, invitation) for pid, _ in people],
                                         dedupe_keys={pid: f"contest:{contest_id}:{pid}" for pid, _ in people})
    return [text(ctx.t("contest.started", id=contest_id, people=summary.queued, until=_minutes_text(ctx, closes)),
                 [Button(ctx.t("contest.show_board"), f"{BOARD}{contest_id}"),
                  Button(ctx.t("contest.end_now"), f"{END}{contest_id}")])]


async def _open_contest(ctx: Context, contest_id: int):
    contest = await ctx.store.contests.get(contest_id)
    if contest is None:
        return None
    if contest.status == "open" and parse_iso(contest.closes_at) <= ctx.clock.now():
        await ctx.store.contests.close(contest_id)
        contest = await ctx.store.contests.get(contest_id)
    return contest


async def _in_scope(ctx: Context, contest) -> bool:
    person = ctx.person
    assert person is not None
    if contest.scope == "college":
        return person.college == contest.scope_value
    if contest.scope == "class":
        return str(person.class_id) == contest.scope_value
    return True


async def join_contest(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Start answering: the first question, timed."""
    assert ctx.person is not None
    arg = button_arg(msg.payload, JOIN)
    contest = await _open_contest(ctx, int(arg)) if arg.isdigit() else None
    if contest is None:
        return [text(ctx.t("error.stale_button"))]
    if contest.status != "open":
        return [text(ctx.t("contest.closed"), [Button(ctx.t("contest.show_board"), f"{BOARD}{contest.id}")])]
    if not await _in_scope(ctx, contest):
        return [text(ctx.t("contest.not_for_you"))]
    if await ctx.store.contests.has_result(contest.id, ctx.person.id):
        return [text(ctx.t("contest.already_done"))]
    if ctx.in_conversation(CONVERSATION) and ctx.state.data.get("contest") == contest.id:
        return [text(ctx.t("contest.in_progress")), *_question(ctx, contest, ctx.state.data["position"])]
    ids = list(contest.questions)
    attempt = await ctx.store.quizzes.start(ctx.person.id, "contest", ids, contest_id=contest.id)
    now = iso(ctx.clock.now())
    ctx.begin(CONVERSATION, "asking", contest=contest.id, attempt=attempt, position=0, asked_at=now,
              started_at=now)
    intro = ctx.t("contest.rules", count=len(ids), seconds=contest.seconds_per_question)
    return [text(intro), *_question(ctx, contest, 0)]


def _question(ctx: Context, contest, position: int) -> list[Outgoing]:
    ids = list(contest.questions)
    question = ctx.library.quiz_by_id(ids[position])
    if question is None:
        return []
    return [question_spec(question, ctx.lang, ANSWER_DATA.prefix_for(contest.id, position), position + 1, len(ids),
                          open_seconds=contest.seconds_per_question,
                          order=option_order(question, ctx.state.data["attempt"], position))]


async def answer_contest(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """An answer within (or past) the time limit; the last one finishes the entry."""
    assert ctx.person is not None
    data = ANSWER_DATA.unpack(msg.payload)
    if data is None:
        return [text(ctx.t("error.stale_button"))]
    contest_id, position, shown = data["contest"], data["position"], data["shown"]
    state = ctx.state.data if ctx.in_conversation(CONVERSATION) else {}
    if state.get("contest") != contest_id:
        return [text(ctx.t("contest.not_joined"))]
    if position != state["position"]:
        return [text(ctx.t("quiz.already_answered"))]
    contest = await ctx.store.contests.get(contest_id)
    ids = list(contest.questions)
    question = ctx.library.quiz_by_id(ids[position])
    if question is None:
        return [text(ctx.t("error.stale_button"))]
    now = ctx.clock.now()
    late = (now - parse_iso(state["asked_at"])).total_seconds() > contest.seconds_per_question + GRACE_S
    order = option_order(question, state["attempt"], position)
    chosen = -1 if late or not 0 <= shown < len(order) else order[shown]
    await ctx.store.quizzes.answer(state["attempt"], position, question.id, chosen, chosen == question.answer)
    replies = [text(ctx.t("contest.too_late") if late else feedback(ctx, question, chosen, order))]
    if position + 1 < len(ids):
        ctx.goto("asking", position=position + 1, asked_at=iso(now))
        return replies + _question(ctx, contest, position + 1)
    ctx.end()
    # A contest drawn like the test (the same picker, quiz_size questions) counts as taking the test.
    score, _ = await ctx.store.quizzes.finish(state["attempt"], ctx.config.program.pass_score,
                                              counts_as_test=len(ids) == ctx.config.program.quiz_size)
    attempt = await ctx.store.quizzes.get(state["attempt"])
    elapsed = (now - parse_iso(state["started_at"])).total_seconds()
    await ctx.store.contests.record_result(contest_id, ctx.person, state["attempt"], attempt.correct,
                                           attempt.total, score, elapsed)
    rank, entries = await ctx.store.contests.rank_of(contest_id, ctx.person.id)
    replies.append(text(ctx.t("contest.finished", score=score, correct=attempt.correct, total=attempt.total,
                              seconds=round(elapsed), rank=rank, entries=entries)))
    return replies


async def _may_manage(ctx: Context, contest) -> bool:
    return ctx.role == "security" or (ctx.person is not None and contest.started_by == ctx.person.id)


async def board_button(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The leaderboard button."""
    arg = button_arg(msg.payload, BOARD)
    return await _board_reply(ctx, int(arg)) if arg.isdigit() else [text(ctx.t("error.stale_button"))]


async def end_button(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The 'end now' button."""
    arg = button_arg(msg.payload, END)
    return await _end(ctx, int(arg)) if arg.isdigit() else [text(ctx.t("error.stale_button"))]


async def _board_reply(ctx: Context, contest_id: int) -> list[Outgoing]:
    contest = await _open_contest(ctx, contest_id)
    if contest is None:
        return [text(ctx.t("contest.unknown", id=contest_id))]
    if contest.status == "open" and not await _may_manage(ctx, contest):
        return [text(ctx.t("contest.board_after_close"))]
    return [text(await leaderboard_text(ctx.store, ctx.services.translate, ctx.lang, contest_id))]


async def _end(ctx: Context, contest_id: int) -> list[Outgoing]:
    contest = await ctx.store.contests.get(contest_id)
    if contest is None:
        return [text(ctx.t("contest.unknown", id=contest_id))]
    if ctx.role not in CONTEST_STARTERS or not await _may_manage(ctx, contest):
        return [text(ctx.t("error.not_allowed"))]
    await ctx.store.contests.close(contest_id)
    return [text(ctx.t("contest.ended", id=contest_id) + "\n\n"
                 + await leaderboard_text(ctx.store, ctx.services.translate, ctx.lang, contest_id))]


def _masked(row) -> str:
    if row.name:
        return row.name
    number = row.person_no or f"#{row.person_id}"
    return number if len(number) <= 4 else number[:2] + "*" * (len(number) - 4) + number[-2:]


async def leaderboard_text(store, translate, lang: str, contest_id: int) -> str:
    """Individuals (score, then time), then classes and colleges by average score."""
    lines = [translate("contest.board_title", lang, id=contest_id)]
    people = await store.contests.individual_board(contest_id)
    if not people:
        return lines[0] + "\n" + translate("contest.board_empty", lang)
    for rank, row in enumerate(people, 1):
        lines.append(translate("contest.board_person", lang, rank=rank, who=_masked(row), klass=row.klass or "-",
                               score=row.score, seconds=round(row.elapsed_s)))
    for by in ("class", "college"):
        lines.append("")
        lines.append(translate(f"contest.board_{by}", lang))
        for rank, row in enumerate(await store.contests.group_board(contest_id, by), 1):
            lines.append(translate("contest.board_group", lang, rank=rank, name=row.name,
                                   average=round(row.average, 1), entries=row.entries))
    return "\n".join(lines)


async def continue_contest(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Text in a contest that is not an answer."""
    return [text(ctx.t("quiz.answer_please"))]


async def show_contest_question(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The contest question the entry stands at, again; its clock keeps running from when it was first asked."""
    contest = await ctx.store.contests.get(ctx.state.data.get("contest", 0))
    if contest is None or contest.status != "open":
        return []
    return _question(ctx, contest, ctx.state.data.get("position", 0))


FLOW = Conversation(CONVERSATION, {"asking": continue_contest}, show_contest_question, buttons=(ANSWER, JOIN),
                    commands=("contest",))
