"""English words for the matcher: contractions undone, irregular verbs lemmatised, inflections stemmed.

Victims write "I've paid", "they're asking", "sent 2k", "scammed", "loans"; the library says "pay",
"ask", "send", "scam", "loan". Both sides go through the same steps so they meet on one form.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z][a-z0-9]*(?:'[a-z]+)?|\d+")
_NEGATION = {"can't": "can not", "won't": "will not", "shan't": "shall not", "ain't": "is not"}

# Words that carry no type information in English descriptions.
STOP = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being am do does did
i me my mine myself we us our you your yours he him his she her it its they them their this that these those
there here so then than too very just also not no yes can could will would should may might must shall
have has had what which who whom how why when where all any some about into over after before again
up down out off say tell ask get go come now today yesterday tonight week someone somebody something
guy person people really still even only back like want need ok okay pls please thing stuff lot bit
hi hello um uh lol hmm wait kind sort since while because though although very much many more most
let make know think see look ever every each other another same such own
""".split())

# Irregular forms a suffix stemmer cannot reach, mapped to the form the stemmer gives the base verb.
_IRREGULAR = {
    "paid": "pay", "sent": "send", "lost": "lose", "won": "win", "bought": "buy", "sold": "sell",
    "gave": "give", "given": "give", "told": "tell", "got": "get", "gotten": "get", "took": "take",
    "taken": "take", "stole": "steal", "stolen": "steal", "made": "make", "said": "say", "met": "meet",
    "kept": "keep", "left": "leave", "found": "find", "spent": "spend", "lent": "lend", "owed": "owe",
    "went": "go", "gone": "go", "came": "come", "saw": "see", "seen": "see", "knew": "know",
    "known": "know", "thought": "think", "brought": "bring", "caught": "catch", "fell": "fall",
    "hung": "hang", "hid": "hide", "hidden": "hide", "wrote": "write", "written": "write",
    "froze": "freeze", "frozen": "freeze", "began": "begin", "begun": "begin", "shown": "show",
    "felt": "feel", "held": "hold", "heard": "hear", "meant": "mean", "ran": "run", "did": "do",
    "done": "do", "was": "be", "were": "be", "been": "be", "is": "be", "am": "be", "are": "be",
    "had": "have", "has": "have", "won't": "will", "men": "man", "women": "woman", "children": "child",
    "bet": "bet", "rang": "ring", "rung": "ring", "dealt": "deal", "drew": "draw", "drawn": "draw",
}

_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One word reduced to a shared form: 'scammed'/'scams'/'scamming' -> 'scam', 'paid' -> 'pay'."""
    if word in _IRREGULAR:
        word = _IRREGULAR[word]
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                base += "y"
            elif suffix in ("ing", "ed", "ings") and len(base) >= 3 and base[-1] == base[-2] \
                    and base[-1] not in "lsz":
                base = base[:-1]                    # scamming -> scam, transferred -> transfer
            elif suffix == "es" and not base.endswith(("s", "x", "z", "ch", "sh")):
                base = word[:-1]                    # fees -> fee, codes -> code
            return base.rstrip("e") if len(base) > 4 else base
    return word.rstrip("e") if len(word) > 4 else word


def words(text: str) -> list[str]:
    """Every English word of a lower-cased text, contractions undone ("haven't" -> "have not")."""
    out: list[str] = []
    for word in _WORD.findall(text):
        if "'" in word:
            word = _NEGATION.get(word, word)
            if " " in word:
                out.extend(word.split())
                continue
            head, _, tail = word.partition("'")
            if tail == "t" and head.endswith("n"):  # don't, haven't, didn't
                out += [head[:-1], "not"]
            else:
                out.append(head)                    # I'm, they're, he's, we've
            continue
        out.append(word)
    return out


def content_stems(text: str) -> list[str]:
    """The stems of a lower-cased text's content words (stop words and single letters dropped)."""
    return [stem(w) for w in words(text) if w not in STOP and len(w) > 1]


def all_stems(text: str) -> list[str]:
    """The stems of every word, stop words kept: the form English keywords are matched on."""
    return [stem(w) for w in words(text)]
