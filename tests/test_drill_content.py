"""The shipped drills: every path walked through the real dispatcher; content check catches broken scripts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.library.drills import MIN_DEPTH
from bot.library.loader import check_library, load_library
from tests.conftest import ROOT

CONTENT = ROOT / "content"
REQUIRED = {"brushing", "fake_service", "fake_authority", "credit_repair", "impersonation", "job", "loan",
            "romance", "game_trade", "subsidy"}


@pytest.fixture(scope="module")
def drills():
    """The shipped drills by id."""
    return load_library(CONTENT).extra["drills"]


def test_ten_drills_cover_the_required_types(drills):
    assert REQUIRED <= {d.fraud_type for d in drills.values()}
    for drill in drills.values():
        assert len(drill.turns) >= 5
        assert drill.intro.zh.startswith("【演练】") and drill.intro.en.startswith("[DRILL]")
        into_endings = [(c, drill.endings[c.next]) for t in drill.turns.values() for c in t.choices
                        if c.next in drill.endings]
        assert sum(1 for _, e in into_endings if not e.safe) >= 2, drill.id
        assert sum(1 for _, e in into_endings if e.safe) >= 2, drill.id


def test_drills_state_the_facts_right(drills):
    """No drill tells anyone to call a number other than 110 / 96110 / 12321 for help."""
    import re

    for drill in drills.values():
        texts = [drill.intro.zh, drill.intro.en]
        for turn in drill.turns.values():
            texts += [turn.safe_move.zh, turn.safe_move.en, *(c.label.zh for c in turn.choices),
                      *(c.label.en for c in turn.choices)]
        texts += [e.text.zh for e in drill.endings.values()] + [e.text.en for e in drill.endings.values()]
        numbers = {n for t in texts for n in re.findall(r"\d{3,}", t)}
        helplines = {n for n in numbers if n.startswith(("11", "96", "123"))}
        assert helplines <= {"110", "96110", "12321"}, (drill.id, helplines)


async def test_every_path_of_every_drill_reaches_a_debrief(app, user_factory, drills):
    walked = 0
    for drill in drills.values():
        user = user_factory(f"walker-{drill.id}")
        for path in drill.paths():
            await user.say(f"/drill {drill.id}")
            assert "【演练】" in user.text
            for turn_id, index in path:
                shown = user.replies[-1]
                assert shown.buttons, f"{drill.id}: turn {turn_id} shows no choices"
                assert drill.turns[turn_id].says.zh in shown.text
                await user.press(shown.flat_buttons()[index].data)
            assert "【演练结束】" in user.text, (drill.id, path)
            assert len(path) >= MIN_DEPTH
            exits = [drill.turns[t].choices[i].next for t, i in path if drill.turns[t].choices[i].next in drill.endings]
            lost = [e for e in exits if not drill.endings[e].safe]
            ending = drill.endings[lost[0] if lost else exits[-1]]     # a loss on the way is how the run ends
            assert ending.text.zh in user.text
            assert "/learn " + drill.fraud_type in [b.data for b in user.replies[-1].flat_buttons()]
            walked += 1
    assert walked >= 80


def _copy_library(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def _edit(folder: Path, drill_id: str, old: str, new: str) -> None:
    path = folder / "drills" / f"{drill_id}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_content_check_catches_a_dangling_branch(tmp_path):
    folder = _copy_library(tmp_path)
    _edit(folder, "brushing", '{ next = "t3", safe = false', '{ next = "t9", safe = false')
    problems = check_library(folder)
    assert any("drills/brushing.toml" in p and "'t9'" in p and "dangling" in p for p in problems), problems


def test_content_check_catches_a_turn_without_choices(tmp_path):
    folder = _copy_library(tmp_path)
    path = folder / "drills" / "loan.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('id = "t4"')
    choice_start = text.index("choice = [", start)
    choice_end = text.index("]\n\n", choice_start) + 2
    path.write_text(text[:choice_start] + text[choice_end:], encoding="utf-8")
    problems = check_library(folder)
    assert any("drills/loan.toml: t4: choice: a turn needs at least 2 choices" in p for p in problems), problems


def test_content_check_catches_a_loop_an_unreachable_turn_and_missing_english(tmp_path):
    folder = _copy_library(tmp_path)
    _edit(folder, "job", '{ next = "t5", safe = false', '{ next = "t1", safe = false')
    _edit(folder, "romance", 'says = { zh = "认识你真好', 'says = { zh = "认识你真好')
    path = folder / "drills" / "romance.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(', en = "Download this platform and top up 500', ', xx = "', 1), encoding="utf-8")
    problems = check_library(folder)
    assert any("drills/job.toml" in p and "loops back" in p for p in problems), problems
    assert any("drills/job.toml: t5: -: unreachable" in p for p in problems), problems
    assert any("drills/romance.toml: t3: says.en: missing" in p for p in problems), problems


def test_content_check_wants_the_drill_marker_and_consistent_safety(tmp_path):
    folder = _copy_library(tmp_path)
    _edit(folder, "subsidy", 'intro = { zh = "【演练】', 'intro = { zh = "')
    _edit(folder, "subsidy", '{ next = "lost", safe = false', '{ next = "lost", safe = true')
    problems = check_library(folder)
    assert any("drills/subsidy.toml: subsidy: intro.zh: must start with 【演练】" in p for p in problems), problems
    assert any("drills/subsidy.toml: t5 choice 1: safe: leads to the unsafe ending" in p for p in problems), problems
    assert check_library(CONTENT) == []


def test_content_check_wants_every_run_four_messages_deep(tmp_path):
    folder = _copy_library(tmp_path)
    shortcut = ('{ next = "t5", safe = false, label = { zh = "直接做进阶任务", en = "Straight to the premium task" } },\n'
                '  { next = "blocked", safe = true, label = { zh = "不感兴趣')
    _edit(folder, "brushing", '{ next = "blocked", safe = true, label = { zh = "不感兴趣', shortcut)
    problems = check_library(folder)
    assert any("drills/brushing.toml: t5: choice: a run can end here before message 4" in p for p in problems), problems
    assert not any("loan.toml" in p for p in problems)
