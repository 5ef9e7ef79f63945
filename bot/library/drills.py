"""Scenario drills (情景模拟): the branching scripts in content/drills/, parsed and checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.library.model import LANGS, Localized

MIN_TURNS = 5
MIN_WRONG = 2            # choices that lead into an unsafe ending
MIN_SAFE_EXITS = 2       # choices that lead into a safe ending
MIN_DEPTH = 4            # the other side's messages every run sees: an exit before this one shows what it
                         # would have meant and the drill carries on (carry_on), so nobody is done after one answer
START_MARK = {"zh": "【演练】", "en": "[DRILL]"}


@dataclass(frozen=True)
class DrillChoice:
    """One answer the person may give at a turn."""

    label: Localized
    next: str               # a turn id or an ending id
    safe: bool


@dataclass(frozen=True)
class DrillTurn:
    """One message from the other side, the red flag it shows and the answers offered."""

    id: str
    says: Localized
    flag: Localized
    safe_move: Localized
    choices: tuple[DrillChoice, ...]


@dataclass(frozen=True)
class DrillEnding:
    """Where a drill ends: safe (got out) or not (lost money, a code, control of the phone)."""

    id: str
    safe: bool
    text: Localized


@dataclass(frozen=True)
class Drill:
    """A whole scenario."""

    id: str
    fraud_type: str
    title: Localized
    caller: Localized       # who the other side claims to be
    intro: Localized
    start: str
    turns: dict[str, DrillTurn]
    endings: dict[str, DrillEnding]

    def is_ending(self, node_id: str) -> bool:
        """Whether an id names an ending."""
        return node_id in self.endings

    def turn_number(self, turn_id: str) -> int:
        """The turn's position in the file, from 1 (a stable name for the debrief)."""
        return list(self.turns).index(turn_id) + 1

    def safe_ending(self) -> DrillEnding:
        """The first safe ending: where a universal 'I'd hang up' leads."""
        return next(e for e in self.endings.values() if e.safe)

    def carry_on(self, turn_id: str) -> str | None:
        """Where the other side's script goes on after an early exit at this turn: the turn its first choice
        into a turn leads to, else the next turn in the file; None when there is neither."""
        turn = self.turns[turn_id]
        onward = next((c.next for c in turn.choices if c.next in self.turns), None)
        if onward is not None:
            return onward
        order = list(self.turns)
        position = order.index(turn_id)
        return order[position + 1] if position + 1 < len(order) else None

    def next_node(self, turn_id: str, choice_index: int, depth: int) -> str:
        """What follows the choice made as the depth-th message: a turn, or an ending from turn MIN_DEPTH on."""
        nxt = self.turns[turn_id].choices[choice_index].next
        if self.is_ending(nxt) and depth < MIN_DEPTH:
            return self.carry_on(turn_id) or nxt
        return nxt

    def paths(self) -> Iterator[list[tuple[str, int]]]:
        """Every path from the start as [(turn_id, choice_index), ...]; the last choice leads to an ending."""
        def walk(turn_id: str, prefix: list[tuple[str, int]]):
            for index in range(len(self.turns[turn_id].choices)):
                step = [*prefix, (turn_id, index)]
                nxt = self.next_node(turn_id, index, len(step))
                if self.is_ending(nxt):
                    yield step
                else:
                    yield from walk(nxt, step)
        yield from walk(self.start, [])


def load_drills(folder: Path, problems, types) -> dict[str, Drill]:
    """Parse content/drills/*.toml into drills by id, recording every problem."""
    from bot.library.loader import load_taxonomy, read_toml

    del types  # the taxonomy is the contract; a type file with problems is reported on its own
    taxonomy = load_taxonomy(folder / "taxonomy.toml")
    drills: dict[str, Drill] = {}
    for path in sorted((folder / "drills").glob("*.toml")):
        rel = f"drills/{path.name}"
        data = read_toml(path, rel, problems)
        if data is None:
            continue
        drill = parse_drill(data, path.stem, rel, problems, taxonomy)
        if drill is not None:
            drills[drill.id] = drill
    return drills


class _Checker:
    """Records problems for one drill file and reads localized fields."""

    def __init__(self, rel: str, problems) -> None:
        self.rel, self.problems, self.ok = rel, problems, True

    def fail(self, entry: str, fld: str, message: str) -> None:
        self.ok = False
        self.problems.add(self.rel, entry, fld, message)

    def localized(self, table, entry: str, fld: str) -> Localized:
        value = table.get(fld) if isinstance(table, dict) else None
        if not isinstance(value, dict):
            self.fail(entry, fld, "missing: needs zh and en")
            return Localized("", "")
        texts = {}
        for lang in LANGS:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.fail(entry, f"{fld}.{lang}", "missing or empty text")
                text = ""
            texts[lang] = text.strip()
        return Localized(texts["zh"], texts["en"])

    def ident(self, table: dict, entry: str) -> str:
        value = table.get("id")
        if not isinstance(value, str) or not value.strip():
            self.fail(entry, "id", "missing")
            return entry
        return value.strip()


def parse_drill(data: dict, stem: str, rel: str, problems, taxonomy: dict) -> Drill | None:
    """Check one drill file; return the drill when it has no problems."""
    c = _Checker(rel, problems)
    drill_id = stem
    if data.get("id") != stem:
        c.fail(stem, "id", f"must be {stem!r} (the file name)")
    fraud_type = data.get("type")
    if fraud_type not in taxonomy:
        c.fail(drill_id, "type", "must be a taxonomy id")
    title = c.localized(data, drill_id, "title")
    caller = c.localized(data, drill_id, "caller")
    intro = c.localized(data, drill_id, "intro")
    for lang, mark in START_MARK.items():
        if intro.get(lang) and not intro.get(lang).startswith(mark):
            c.fail(drill_id, f"intro.{lang}", f"must start with {mark} so nobody mistakes the drill for real contact")
    turns = _parse_turns(data, drill_id, c)
    endings = _parse_endings(data, drill_id, c)
    clash = set(turns) & set(endings)
    for node in sorted(clash):
        c.fail(node, "id", "used by a turn and an ending")
    start = data.get("start", next(iter(turns), ""))
    if start not in turns:
        c.fail(drill_id, "start", f"{start!r} is not a turn")
    _check_graph(drill_id, start, turns, endings, c)
    if not c.ok:
        return None
    drill = Drill(drill_id, fraud_type, title, caller, intro, start, turns, endings)
    _check_depth(drill, c)
    return drill if c.ok else None


def _check_depth(drill: Drill, c: _Checker) -> None:
    """No run ends before its MIN_DEPTH-th message: every early exit has a turn to carry on at."""
    shallow: set[str] = set()

    def walk(turn_id: str, depth: int) -> None:
        for index in range(len(drill.turns[turn_id].choices)):
            nxt = drill.next_node(turn_id, index, depth)
            if not drill.is_ending(nxt):
                walk(nxt, depth + 1)
            elif depth < MIN_DEPTH:
                shallow.add(turn_id)

    walk(drill.start, 1)
    for turn_id in sorted(shallow):
        c.fail(turn_id, "choice", f"a run can end here before message {MIN_DEPTH}: add a turn after it"
                                  " (an early exit carries on at the turn its first choice leads to, else the next)")


def _parse_turns(data: dict, drill_id: str, c: _Checker) -> dict[str, DrillTurn]:
    raw_turns = data.get("turn", [])
    if not isinstance(raw_turns, list) or not all(isinstance(t, dict) for t in raw_turns):
        c.fail(drill_id, "turn", "must be an array of tables ([[turn]])")
        return {}
    if len(raw_turns) < MIN_TURNS:
        c.fail(drill_id, "turn", f"needs at least {MIN_TURNS} turns, has {len(raw_turns)}")
    turns: dict[str, DrillTurn] = {}
    for index, raw in enumerate(raw_turns):
        turn_id = c.ident(raw, f"turn #{index + 1}")
        if turn_id in turns:
            c.fail(turn_id, "id", "used by two turns")
        raw_choices = raw.get("choice", [])
        if not isinstance(raw_choices, list) or not all(isinstance(x, dict) for x in raw_choices):
            raw_choices = []
        if len(raw_choices) < 2:
            c.fail(turn_id, "choice", f"a turn needs at least 2 choices, has {len(raw_choices)}")
        if len(raw_choices) > 6:
            c.fail(turn_id, "choice", f"at most 6 choices fit a chat, has {len(raw_choices)}")
        choices = []
        for number, raw_choice in enumerate(raw_choices, 1):
            entry = f"{turn_id} choice {number}"
            nxt = raw_choice.get("next")
            if not isinstance(nxt, str) or not nxt:
                c.fail(entry, "next", "missing: the turn or ending it leads to")
                nxt = ""
            safe = raw_choice.get("safe")
            if not isinstance(safe, bool):
                c.fail(entry, "safe", "must be true or false")
                safe = False
            choices.append(DrillChoice(c.localized(raw_choice, entry, "label"), nxt, safe))
        turns[turn_id] = DrillTurn(
            turn_id, c.localized(raw, turn_id, "says"), c.localized(raw, turn_id, "flag"),
            c.localized(raw, turn_id, "safe_move"), tuple(choices),
        )
    return turns


def _parse_endings(data: dict, drill_id: str, c: _Checker) -> dict[str, DrillEnding]:
    raw_endings = data.get("ending", [])
    if not isinstance(raw_endings, list) or not all(isinstance(e, dict) for e in raw_endings):
        c.fail(drill_id, "ending", "must be an array of tables ([[ending]])")
        return {}
    endings: dict[str, DrillEnding] = {}
    for index, raw in enumerate(raw_endings):
        ending_id = c.ident(raw, f"ending #{index + 1}")
        if ending_id in endings:
            c.fail(ending_id, "id", "used by two endings")
        safe = raw.get("safe")
        if not isinstance(safe, bool):
            c.fail(ending_id, "safe", "must be true or false")
            safe = False
        endings[ending_id] = DrillEnding(ending_id, safe, c.localized(raw, ending_id, "text"))
    if not any(e.safe for e in endings.values()):
        c.fail(drill_id, "ending", "needs at least one safe ending")
    if not any(not e.safe for e in endings.values()):
        c.fail(drill_id, "ending", "needs at least one unsafe ending")
    return endings


def _check_graph(drill_id: str, start: str, turns: dict[str, DrillTurn], endings: dict[str, DrillEnding],
                 c: _Checker) -> None:
    """Dangling branches, unreachable turns, loops (a path that never ends), too few ways out or in."""
    wrong = exits = 0
    for turn in turns.values():
        for number, choice in enumerate(turn.choices, 1):
            entry = f"{turn.id} choice {number}"
            if choice.next in endings:
                ending = endings[choice.next]
                if ending.safe != choice.safe:
                    c.fail(entry, "safe", f"leads to the {'safe' if ending.safe else 'unsafe'} ending"
                                          f" {ending.id!r}, so safe must be {str(ending.safe).lower()}")
                wrong += not ending.safe
                exits += ending.safe
            elif choice.next and choice.next not in turns:
                c.fail(entry, "next", f"{choice.next!r} is neither a turn nor an ending (dangling branch)")
        if turn.choices and not any(ch.safe for ch in turn.choices):
            c.fail(turn.id, "choice", "needs at least one safe choice (the safe move)")
    if wrong < MIN_WRONG:
        c.fail(drill_id, "choice", f"needs at least {MIN_WRONG} choices that end unsafely, has {wrong}")
    if exits < MIN_SAFE_EXITS:
        c.fail(drill_id, "choice", f"needs at least {MIN_SAFE_EXITS} safe exits (choices into a safe ending),"
                                   f" has {exits}")
    if start not in turns:
        return
    seen: set[str] = set()
    _walk(start, turns, seen, [], c)
    for node in [*turns, *endings]:
        if node not in seen:
            c.fail(node, "-", "unreachable from the start")


def _walk(node: str, turns: dict[str, DrillTurn], seen: set[str], stack: list[str], c: _Checker) -> None:
    """Depth-first walk marking what is reachable and failing on a loop."""
    if node in stack:
        c.fail(node, "next", "loops back (" + " -> ".join([*stack[stack.index(node):], node])
               + "): a path would never reach an end")
        return
    if node in seen:
        return
    seen.add(node)
    turn = turns.get(node)
    if turn is None:
        return
    stack.append(node)
    for choice in turn.choices:
        if choice.next in turns or not choice.next:
            if choice.next:
                _walk(choice.next, turns, seen, stack, c)
        else:
            seen.add(choice.next)
    stack.pop()
