"""The campaign calendar is checked with the rest of the library by `wuzha content check`."""

from __future__ import annotations

import shutil
from datetime import date

from bot.library.campaigns import calendar_of
from bot.library.loader import check_library, load_library
from tests.conftest import ROOT


def test_shipped_calendar_loads_with_windows_over_the_year():
    calendar = calendar_of(load_library(ROOT / "content"))
    ids = {c.id for c in calendar.campaigns}
    assert {"freshman-week", "before-winter-break", "after-winter-break", "internship-season", "graduation",
            "letter-to-families"} <= ids
    assert [c.id for c, _ in calendar.active(date(2027, 1, 10))] == ["before-winter-break"]
    assert calendar.letter(date(2027, 3, 1)).letter.en.startswith("Dear parents")


def test_content_check_names_file_entry_and_field(tmp_path):
    library = tmp_path / "content"
    shutil.copytree(ROOT / "content", library)
    path = library / "campaigns.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('windows = [["09-01", "09-21"]]',
                                                             'windows = [["09-01", "13-40"]]')
                    .replace('types = ["job", "loan", "credit_repair", "two_cards", "exam", "fake_service"]',
                             'types = ["job"]')
                    .replace('id = "after-winter-break"\nkind = "quiz"', 'id = "after-winter-break"\nkind = "poster"'), encoding="utf-8")
    problems = check_library(library)
    assert "campaigns.toml: freshman-week: windows[0]: must be [\"MM-DD\", \"MM-DD\"] with real dates" in problems
    assert any(p.startswith("campaigns.toml: after-winter-break: kind:") for p in problems)


def test_the_shipped_quiz_bank_gives_nothing_away_by_length_position_or_wording():
    from bot.library.loader import LONGEST_LIMIT, quiz_cues

    library = load_library(ROOT / "content")
    for cues in quiz_cues(library):
        assert cues.longest_share <= LONGEST_LIMIT and cues.shortest_share <= LONGEST_LIMIT, cues.lang
        assert not cues.giveaways
        assert all(abs(count - cues.questions / 4) <= 0.1 * cues.questions / 4 for count in cues.positions)
    assert check_library(ROOT / "content") == []


def test_always_answering_the_longest_option_fails_the_awareness_test():
    import random

    from handlers.picking import balanced_quiz

    library = load_library(ROOT / "content")
    for lang in ("zh", "en"):
        scores = []
        for seed in range(200):
            questions = balanced_quiz(library, 10, random.Random(seed))
            right = 0
            for question in questions:
                lengths = [len(option) for option in question.text(lang).options]
                right += lengths.index(max(lengths)) == question.answer      # the first of the longest
            scores.append(10 * right)
        assert max(scores) < 80 and sum(scores) / len(scores) < 40, (lang, sum(scores) / len(scores))


def test_a_bank_whose_right_options_stand_out_fails_the_content_check(tmp_path):
    import re

    broken = tmp_path / "lib"
    shutil.copytree(ROOT / "content", broken, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (broken / "types").glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        # Every question's answer becomes A, and A gets a long tail: both cues at once.
        text = re.sub(r'^answer = "[A-D]"', 'answer = "A"', text, flags=re.M)
        text = re.sub(r'^options = \["', 'options = ["以上都对，这是最完整也最稳妥、最全面的做法：', text, flags=re.M)
        path.write_text(text, encoding="utf-8")
    problems = check_library(broken)
    assert any("strictly longest" in p and "at most 30%" in p for p in problems), problems[:5]
    assert any(p.startswith("quiz: A is the right answer in") for p in problems)
    assert any("'all of the above'" in p for p in problems)
