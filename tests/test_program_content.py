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
