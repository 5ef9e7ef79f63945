"""Offered options in one place: what a message offers, how it reads as text, and how an answer matches it.

Every channel uses these: the console and WeChat render the options as numbered or lettered lines, and
the dispatcher matches what people type ("2", "B", "选B", "Ｄ", "对", "not really", an option's words)
against the options of the message they answer.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz, utils

from bot.events import Outgoing

LETTERS = "ABCDEFGHIJKL"
Choice = tuple[str, str]          # (label people read, data the dispatcher routes on)

_LETTER = re.compile(r"^(?:选项?|答案|选择|我选|option|answer|choose)?\s*([a-z])\s*[.。、:：)）]?$")
_NUMBER = re.compile(r"^(?:选项?|第|我选|option|no\.?)?\s*(\d{1,2})\s*(?:个|项)?[.。、)）]?$")
_PUNCT = re.compile(r"[\s。.!！?？,，~～…]+")

# Natural yes / no, zh and en: what people type instead of pressing 是 / 否.
YES_WORDS = frozenset({
    "是", "是的", "是啊", "对", "对的", "对啊", "嗯", "嗯嗯", "有", "有的", "好", "好的", "行", "可以", "同意", "确认",
    "yes", "yeah", "yep", "yup", "y", "sure", "ok", "okay", "of course", "correct", "right", "i agree", "agree",
})
NO_WORDS = frozenset({
    "否", "不是", "不", "没有", "没", "还没", "还没有", "不对", "没有的", "无", "不用", "不要", "从来没有", "从没",
    "no", "nope", "nah", "n", "not really", "not yet", "never", "none", "no it hasnt", "no it has not",
})
SKIP_WORDS = frozenset({"跳过", "略过", "下一个", "下一步", "不想说", "不知道", "skip", "next", "pass", "dont know",
                        "i dont know", "skip it"})


def fold(body: str) -> str:
    """Full-width forms to ASCII (Ｄ→D, ４→4), lower case, outer spaces gone."""
    return unicodedata.normalize("NFKC", body).strip().lower()


def word_of(body: str) -> str:
    """An answer reduced to its words: folded, punctuation and apostrophes gone ('Not really.' → 'not really')."""
    return _PUNCT.sub(" ", fold(body).replace("'", "").replace("’", "")).strip()


def is_yes(body: str) -> bool:
    """Whether the text is a plain yes (是 / 对 / 嗯 / yes / yep / sure ...)."""
    return word_of(body) in YES_WORDS


def is_no(body: str) -> bool:
    """Whether the text is a plain no (否 / 不是 / 没有 / no / nope / not really ...)."""
    return word_of(body) in NO_WORDS


def is_skip(body: str) -> bool:
    """Whether the text asks to skip the question."""
    return word_of(body) in SKIP_WORDS


def offered(message: Outgoing) -> list[Choice]:
    """The options a message offers: a quiz's options or its buttons, in reading order."""
    if message.quiz is not None and message.quiz.answer_prefix:
        return [(o, f"{message.quiz.answer_prefix}{i}") for i, o in enumerate(message.quiz.options)]
    return [(b.label, b.data) for b in message.flat_buttons()]


def option_lines(message: Outgoing) -> list[str]:
    """The options as text lines: lettered for a quiz, numbered for buttons (what a text-only chat shows)."""
    if message.quiz is not None:
        return [f"{LETTERS[i]}. {option}" for i, option in enumerate(message.quiz.options)]
    return [f"{i}. {b.label}" for i, b in enumerate(message.flat_buttons(), 1)]


def index_of(body: str) -> int | None:
    """The option index a bare number or letter names ('2' → 1, 'B' / '选B' / 'Ｂ' → 1), else None."""
    folded = fold(body)
    if m := _NUMBER.match(folded):
        return int(m.group(1)) - 1
    if m := _LETTER.match(folded):
        return ord(m.group(1)) - ord("a")
    return None


def match_choice(body: str, choices: list[Choice]) -> str | None:
    """Map '2', 'B', '选B', 'Ｄ', a yes/no word or an option's words to that option's data, or None."""
    if not body.strip() or not choices:
        return None
    index = index_of(body)
    if index is not None and 0 <= index < len(choices):
        return choices[index][1]
    if index is not None:
        return _polar(body, choices)           # 'y' / 'n' are no option letters of a yes/no question
    return match_words(body, choices)


def match_words(body: str, choices: list[Choice]) -> str | None:
    """An option's data from yes/no words or the option's own words (a confident fuzzy match), or None."""
    polar = _polar(body, choices)
    if polar is not None:
        return polar
    wanted = utils.default_process(fold(body))
    if not wanted:
        return None
    scored = []
    for label, data in choices:
        label_clean = utils.default_process(_strip_marker(fold(label)))
        if not label_clean:
            continue
        score = fuzz.ratio(wanted, label_clean)
        if 2 <= len(wanted) <= len(label_clean):
            score = max(score, fuzz.partial_ratio(wanted, label_clean) - 5)
        scored.append((score, data))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < 80:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 8:
        return None
    return scored[0][1]


def _polar(body: str, choices: list[Choice]) -> str | None:
    """A yes/no word answers the option whose data ends in :yes / :no (or is labelled yes / no)."""
    if is_yes(body):
        want = "yes"
    elif is_no(body):
        want = "no"
    else:
        return None
    words = YES_WORDS if want == "yes" else NO_WORDS
    for label, data in choices:
        if data.endswith(f":{want}") or word_of(label) in words:
            return data
    return None


def _strip_marker(label: str) -> str:
    """Drop a leading 'A. ' or '1) ' that some labels carry."""
    return re.sub(r"^\s*(?:[a-d]|\d{1,2})\s*[.、)）]\s*", "", label)


async def remember_delivered(store, platform: str, user_key: str, message: Outgoing, ref: str) -> None:
    """A message with options reached a person's private chat as platform message `ref`: quoting it answers them."""
    choices = offered(message)
    if not choices:
        return
    account = await store.accounts.find(platform, user_key)
    if account is not None:
        await store.choices.delivered(account.id, choices, ref)
