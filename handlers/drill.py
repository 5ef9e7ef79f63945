"""Scenario drills: /drill lists and starts one, the person answers turn by turn, a debrief ends it."""

from __future__ import annotations

import re
import secrets

from rapidfuzz import fuzz, utils

from bot.buttondata import ButtonData
from bot.clock import iso
from bot.context import Context
from bot.conversation import ANY_STEP, Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.library.drills import MIN_DEPTH, Drill, DrillTurn
from handlers.common import find_type
from handlers.drill_followup import schedule_followup
from storage.drills import DrillResult

CONVERSATION = "drill"
CHOICE = ButtonData("drill:", (("run", str), ("turn", str), ("index", int)),
                    widest=("ffffff", "t" * 32, 9))        # turn ids are at most 32 characters (content check)
BUTTON_PREFIX = CHOICE.prefix
MATCH_MIN = 60           # free text below this score matches no choice
MATCH_MARGIN = 6         # ... nor when two choices score this close

# Words that always mean "I'm getting out": hang up, block, report, call the police or 96110.
_EXIT_WORDS = re.compile(
    r"挂电话|挂断|挂掉|挂了|拉黑|屏蔽|删除好友|删了|删掉|不理|不回|报警|举报|(?<!\d)(?:110|96110)(?!\d)|反诈中心"
    r"|hang(?:ing)? up|hung up|block|report|call(?:ing)? the police|police station|ignore|delete (?:him|her|them)",
    re.IGNORECASE,
)
# Checking with the real person or an official channel, or refusing to pay: safe moves that need not end the drill.
_SAFE_MOVE = re.compile(
    r"核实|核对|问问.{0,8}本人|(打|回)电话.{0,10}(问|确认|核实)|当面.{0,4}(问|确认)|官方(电话|客服|渠道|app|App)"
    r"|不交|不转|不给|不付|不汇|不借|凭什么|没门|不会给|先不(转|付|交|给)"
    r"|verify|check with|ask .{0,20}(in person|directly|myself)|call .{0,30}(myself|directly|official|back)"
    r"|won't pay|will not pay|not paying|not going to pay|refuse|no way",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"(?:不|别|没|不会|不要|不想|don't|do not|won't|will not|not|never)\s*$", re.IGNORECASE)


def drills_of_library(library) -> dict[str, Drill]:
    """The library's drills by id."""
    return library.extra.get("drills", {})


def drills_of(ctx: Context) -> dict[str, Drill]:
    """The shipped drills by id."""
    return drills_of_library(ctx.library)


async def list_drills(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/drill: list the drills in a fixed order, marked assigned / done; /drill <id or type name> starts one."""
    drills = drills_of(ctx)
    wanted = msg.payload.strip().lower()
    if wanted:
        type_id = find_type(ctx.library, wanted)
        drill = drills.get(wanted) or next((d for d in drills.values() if d.fraud_type == type_id), None)
        if drill is None:
            return [text(ctx.t("drill.unknown", name=wanted[:40]))]
        return start_drill(ctx, drill)
    if not drills:
        return [text(ctx.t("drill.none"))]
    best = await ctx.store.drills.best(ctx.person.id) if ctx.person else {}
    assigned = await ctx.store.drills.assigned_open(ctx.person.id) if ctx.person else []
    order = sorted(drills.values(), key=lambda d: d.id)    # the same numbers every time; marks tell what is due
    rows = []
    for drill in order:
        mark = ""
        if drill.id in assigned:
            mark = ctx.t("drill.mark_assigned")
        elif drill.id in best:
            score, passed = best[drill.id]
            mark = ctx.t("drill.mark_done", score=score) if passed else ctx.t("drill.mark_retry", score=score)
        label = f"{drill.title.get(ctx.lang)} {mark}" if mark else drill.title.get(ctx.lang)
        rows.append([Button(label, f"/drill {drill.id}")])
    return [Outgoing(text=ctx.t("drill.list", done=len(best), total=len(drills)), buttons=rows)]


def start_drill(ctx: Context, drill: Drill) -> list[Outgoing]:
    """Enter the drill conversation and show the opening and the first turn."""
    run = secrets.token_hex(3)
    ctx.begin(CONVERSATION, drill.start, drill=drill.id, run=run, started_at=iso(ctx.clock.now()), path=[],
              nudged=False)
    opening = text(ctx.t("drill.opening", title=drill.title.get(ctx.lang), intro=drill.intro.get(ctx.lang)))
    return [opening, turn_message(ctx, drill, drill.turns[drill.start], run)]


def turn_message(ctx: Context, drill: Drill, turn: DrillTurn, run: str) -> Outgoing:
    """One message from the other side, marked as a drill, with the choices as buttons."""
    step = len(ctx.state.data.get("path", [])) + 1 if ctx.state else 1
    return turn_message_for(ctx.services.translate, ctx.lang, drill, turn, run, step)


def turn_message_for(translate, lang: str, drill: Drill, turn: DrillTurn, run: str, step: int) -> Outgoing:
    """turn_message without a Context (for pushes); step counts the other side's messages from 1."""
    body = translate("drill.turn", lang, n=step, caller=drill.caller.get(lang),
                     says=turn.says.get(lang))
    rows = [[Button(choice.label.get(lang), CHOICE.pack(run, turn.id, i))]
            for i, choice in enumerate(turn.choices)]
    return Outgoing(text=body, buttons=rows)


def _current(ctx: Context) -> tuple[Drill, DrillTurn] | None:
    """The drill and turn the person is at, or None when not in a (still shipped) drill."""
    if not ctx.in_conversation(CONVERSATION):
        return None
    drill = drills_of(ctx).get(ctx.state.data.get("drill", ""))
    if drill is None or ctx.state.step not in drill.turns:
        return None
    return drill, drill.turns[ctx.state.step]


async def press_drill_choice(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A choice button (or '2', 'B', its words, mapped by the dispatcher)."""
    data = CHOICE.unpack(msg.payload)
    current = _current(ctx)
    if current is None or data is None:
        return [_refusal(ctx.t("drill.stale"))]
    drill, turn = current
    run, turn_id, index = data["run"], data["turn"], data["index"]
    if run != ctx.state.data.get("run") or turn_id != turn.id or index >= len(turn.choices):
        return [_refusal(ctx.t("drill.stale"))]
    choice = turn.choices[index]
    return await _advance(ctx, drill, turn, index, choice.label.get(ctx.lang), choice.safe, choice.next)


async def continue_drill(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Free text inside a drill: a safe exit, the nearest choice, or a polite ask to pick one."""
    current = _current(ctx)
    if current is None:
        ctx.end()
        return [text(ctx.t("drill.gone"))]
    drill, turn = current
    if msg.media is not None or not msg.payload.strip():
        return [text(ctx.t("drill.text_please")), turn_message(ctx, drill, turn, ctx.state.data["run"])]
    words = msg.payload.strip()
    if _SAFE_MOVE.search(words) and (index := _safe_choice(turn, words)) is not None:
        choice = turn.choices[index]
        return await _advance(ctx, drill, turn, index, words, True, choice.next)
    if is_safe_exit(words) or _SAFE_MOVE.search(words):
        index = _exit_choice(drill, turn, words)
        if index is None:
            ending = drill.safe_ending()
            return await _advance(ctx, drill, turn, None, words, True, ending.id)
        choice = turn.choices[index]
        return await _advance(ctx, drill, turn, index, words, True, choice.next)
    index = nearest_choice(turn, words)
    if index is None:
        return [text(ctx.t("drill.not_matched", count=len(turn.choices))),
                turn_message(ctx, drill, turn, ctx.state.data["run"])]
    choice = turn.choices[index]
    return await _advance(ctx, drill, turn, index, words, choice.safe, choice.next)


def is_safe_exit(words: str) -> bool:
    """Whether free text means hanging up, blocking, reporting or calling the police (and is not negated)."""
    for match in _EXIT_WORDS.finditer(words):
        if not _NEGATION.search(words[:match.start()]):
            return True
    return False


def _exit_choice(drill: Drill, turn: DrillTurn, words: str) -> int | None:
    """The turn's safe exit (a safe choice into an ending) closest to the words, if the turn offers one."""
    exits = [i for i, c in enumerate(turn.choices) if c.safe and drill.is_ending(c.next)]
    if not exits:
        return None
    return max(exits, key=lambda i: _score(words, turn.choices[i]))


def _safe_choice(turn: DrillTurn, words: str) -> int | None:
    """The turn's safe choice nearest to the words (a safe move stays in the drill where the turn offers one)."""
    safe = [i for i, c in enumerate(turn.choices) if c.safe]
    return max(safe, key=lambda i: _score(words, turn.choices[i])) if safe else None


def nearest_choice(turn: DrillTurn, words: str) -> int | None:
    """The choice whose words (zh or en) are nearest to the text, if one is clearly nearest."""
    scored = sorted(((_score(words, c), i) for i, c in enumerate(turn.choices)), reverse=True)
    if not scored or scored[0][0] < MATCH_MIN:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < MATCH_MARGIN:
        return None
    return scored[0][1]


def _score(words: str, choice) -> float:
    wanted = utils.default_process(words)
    if not wanted:
        return 0.0
    best = 0.0
    for label in (choice.label.zh, choice.label.en):
        label_clean = utils.default_process(label)
        if not label_clean:
            continue
        score = max(fuzz.ratio(wanted, label_clean), fuzz.token_sort_ratio(wanted, label_clean))
        if len(wanted) >= 2:
            score = max(score, fuzz.partial_ratio(wanted, label_clean) - (5 if len(wanted) < len(label_clean) else 0))
        best = max(best, score)
    return best


async def _advance(ctx: Context, drill: Drill, turn: DrillTurn, index: int | None, said: str, safe: bool,
                   nxt: str) -> list[Outgoing]:
    """Record what the person did at this turn; show the next turn or the debrief.

    An ending reached before message MIN_DEPTH does not end the run: it is said what it would have meant,
    and the other side's script carries on, so every run meets at least MIN_DEPTH red flags.
    """
    step = {"turn": turn.id, "choice": index, "said": said[:200], "safe": safe}
    path = [*ctx.state.data.get("path", []), step]
    early = None
    if drill.is_ending(nxt) and len(path) < MIN_DEPTH and (onward := drill.carry_on(turn.id)):
        early, nxt = drill.endings[nxt], onward
        step["would_end"] = early.id
    if not drill.is_ending(nxt):
        ctx.goto(nxt, path=path, nudged=False)
        shown = [turn_message(ctx, drill, drill.turns[nxt], ctx.state.data["run"])]
        if early is not None:
            key = "drill.carry_on_safe" if early.safe else "drill.carry_on_unsafe"
            shown.insert(0, text(ctx.t(key, ending=early.text.get(ctx.lang))))
        return shown
    return await _finish(ctx, drill, path, nxt)


async def _finish(ctx: Context, drill: Drill, path: list[dict], ending_id: str) -> list[Outgoing]:
    """Store the result, queue a follow-up warning for missed flags, end the conversation, debrief.

    A run that would have ended unsafely earlier (a code given away at message 3) ends as that loss.
    """
    lost_early = next((s["would_end"] for s in path if s.get("would_end")
                       and not drill.endings[s["would_end"]].safe), None)
    ending = drill.endings[lost_early or ending_id]
    handled = sum(1 for step in path if step["safe"])
    score = round(100 * handled / len(path)) if path else 0
    passed = ending.safe and score >= ctx.config.program.drill_pass_score
    missed = [step["turn"] for step in path if not step["safe"]]
    followup = False
    if ctx.person is not None:
        await ctx.store.drills.record(DrillResult(
            ctx.person.id, drill.id, drill.fraud_type, score, passed, ending.id, ending.safe, missed, path,
            ctx.state.data.get("started_at", iso(ctx.clock.now())),
        ))
        if missed:
            followup = await schedule_followup(ctx.services, ctx.person, ctx.account, drill, missed[0])
    ctx.end()
    return debrief(ctx, drill, path, ending, score, passed, followup)


def debrief(ctx: Context, drill: Drill, path: list[dict], ending, score: int, passed: bool,
            followup: bool) -> list[Outgoing]:
    """The end of a drill: the outcome, each red flag with what the person did, the score, where to go next."""
    lang = ctx.lang
    lines = [ctx.t("drill.end_banner", title=drill.title.get(lang)),
             ctx.t("drill.outcome_safe" if ending.safe else "drill.outcome_unsafe", ending=ending.text.get(lang)),
             "", ctx.t("drill.flags_title")]
    for number, step in enumerate(path, 1):
        turn = drill.turns[step["turn"]]
        did = step["said"] if step["choice"] is None else turn.choices[step["choice"]].label.get(lang)
        lines.append(ctx.t("drill.flag_line", n=number, flag=turn.flag.get(lang)))
        lines.append(ctx.t("drill.you_did_safe" if step["safe"] else "drill.you_did_unsafe", choice=did))
        if not step["safe"]:
            lines.append(ctx.t("drill.safe_move", move=turn.safe_move.get(lang)))
    handled = sum(1 for step in path if step["safe"])
    lines += ["", ctx.t("drill.score", score=score, handled=handled, total=len(path)),
              ctx.t("drill.passed" if passed else "drill.not_passed", pass_score=ctx.config.program.drill_pass_score)]
    if followup:
        lines.append(ctx.t("drill.followup_note"))
    lines.append(ctx.t("drill.remember"))
    return [Outgoing(text="\n".join(lines), buttons=[
        [Button(ctx.t("drill.btn_learn"), f"/learn {drill.fraud_type}"),
         Button(ctx.t("drill.btn_quiz"), f"/quiz {drill.fraud_type}")],
        [Button(ctx.t("drill.btn_more"), "/drill")],
    ])]


def _refusal(body: str) -> Outgoing:
    reply = text(body)
    reply.alert = True
    return reply


async def show_turn(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The turn the drill stands at, again."""
    current = _current(ctx)
    if current is None:
        return []
    drill, turn = current
    return [turn_message(ctx, drill, turn, ctx.state.data["run"])]


FLOW = Conversation(CONVERSATION, {ANY_STEP: continue_drill}, show_turn, buttons=(BUTTON_PREFIX,))
