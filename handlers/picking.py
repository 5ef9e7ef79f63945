"""Choosing what to ask whom: self-check questions, cases and quiz sets, weighted by a person's tags."""

from __future__ import annotations

import random

from bot.library.campaigns import calendar_of
from bot.library.model import Case, Library, QuizQuestion, SelfCheck

EXPOSED_WEIGHT = 4.0      # a type the person's tags make them exposed to counts this many times more
OTHER_WEIGHT = 0.3        # "other" is a catch-all: rarely drawn


def rng_for(*parts) -> random.Random:
    """A random source fixed by its parts (person, day...), so a pick is the same when asked again."""
    return random.Random(":".join(str(p) for p in parts))


def type_weights(library: Library, tags: set[str]) -> dict[str, float]:
    """How much each fraud type should be drawn for a person with these tags."""
    exposure = calendar_of(library).exposure
    groups = set(tags)
    if "staff" not in groups:
        groups.add("student")
    exposed = {t for tag in groups for t in exposure.get(tag, ())}
    weights = {}
    for type_id in library.types:
        weight = EXPOSED_WEIGHT if type_id in exposed else 1.0
        weights[type_id] = OTHER_WEIGHT if type_id == "other" else weight
    return weights


def _weighted_sample(items: list, weights: list[float], count: int, rng: random.Random) -> list:
    """Draw count distinct items, each with probability proportional to its weight (Efraimidis-Spirakis)."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0), reverse=True)
    return [items[i] for _, i in keyed[:count]]


def pick_selfchecks(library: Library, tags: set[str], count: int, rng: random.Random,
                    avoid: set[str] = frozenset()) -> list[SelfCheck]:
    """count self-check questions of different types, leaning to exposed types, avoiding recent ones."""
    weights = type_weights(library, tags)
    fresh = [s for s in library.all_selfchecks() if s.id not in avoid]
    pool = fresh if len({s.fraud_type for s in fresh}) >= count else library.all_selfchecks()
    per_type: dict[str, list[SelfCheck]] = {}
    for check in pool:
        per_type.setdefault(check.fraud_type, []).append(check)
    type_ids = list(per_type)
    chosen_types = _weighted_sample(type_ids, [weights.get(t, 1.0) for t in type_ids], count, rng)
    return [rng.choice(per_type[t]) for t in chosen_types]


def pick_case(library: Library, tags: set[str], rng: random.Random, exclude: set[str] = frozenset(),
              types: tuple[str, ...] = ()) -> Case | None:
    """A case story not sent before, from the given types (or any), leaning to the person's tags."""
    weights = type_weights(library, tags)
    cases = [c for c in library.all_cases() if c.id not in exclude and (not types or c.fraud_type in types)]
    if not cases:
        return None
    case_weights = [
        weights.get(c.fraud_type, 1.0) * (2.0 if ("all" in c.audience or tags & set(c.audience)) else 1.0)
        for c in cases
    ]
    return _weighted_sample(cases, case_weights, 1, rng)[0]


def balanced_quiz(library: Library, size: int, rng: random.Random, type_id: str | None = None) -> list[QuizQuestion]:
    """A quiz set: one type's questions, or questions spread evenly across every type."""
    if type_id is not None:
        questions = list(library.type(type_id).quiz)
        rng.shuffle(questions)
        return questions[:size]
    pools = {t.id: list(t.quiz) for t in library.types.values() if t.quiz and t.id != "other"}
    for pool in pools.values():
        rng.shuffle(pool)
    order = list(pools)
    rng.shuffle(order)
    chosen: list[QuizQuestion] = []
    while len(chosen) < size and any(pools.values()):
        for type_id_ in order:
            if pools[type_id_] and len(chosen) < size:
                chosen.append(pools[type_id_].pop())
    return chosen
