"""English word handling for the matcher: contractions, irregular verbs, inflections, stemmed keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.library import english
from bot.library.loader import load_library
from bot.library.matcher import build_matcher, normalize, tokens

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("forms", "shared"), [
    (["paid", "pay", "paying", "pays"], "pay"),
    (["scammed", "scam", "scams", "scamming"], "scam"),
    (["loans", "loan"], "loan"),
    (["transferred", "transfer", "transfers"], "transfer"),
    (["fees", "fee"], "fee"),
    (["sent", "send", "sending"], "send"),
])
def test_inflections_meet_on_one_stem(forms, shared):
    assert {english.stem(form) for form in forms} == {english.stem(shared)}


def test_contractions_are_undone_and_stop_words_dropped():
    assert english.words("i've paid, they haven't sent it") == ["i", "paid", "they", "have", "not", "sent", "it"]
    assert english.content_stems("i've paid them, they can't send it") == ["pay", "send"]


def test_curly_apostrophes_and_word_pairs_become_tokens():
    toks = tokens(normalize("They’re asking for my card number"))
    assert "card" in toks and "number" in toks and "card_number" in toks
    assert not any("'" in tok or "re" == tok for tok in toks)


@pytest.fixture(scope="module")
def matcher():
    """One matcher over the shipped library for this module."""
    return build_matcher(load_library(ROOT / "content"))


@pytest.mark.parametrize(("body", "expected"), [
    ("I've been scammed, I paid the loan app an unfreezing fee and still got no loan", "loan"),
    ("they're saying my orders got stuck and I must top up again before I can withdraw my commission", "brushing"),
    ("a guy offered me money every month for lending him my bank cards", "two_cards"),
])
def test_inflected_english_descriptions_find_their_type(matcher, body, expected):
    assert matcher.top(body)[0] == expected
