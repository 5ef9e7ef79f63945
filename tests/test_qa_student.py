"""Wording a student reads on a phone, found in QA of the student journey: each line should read naturally."""

from __future__ import annotations

import pytest

from tests.program_support import bound_users


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_risky_self_check_answer_names_the_scam_once_and_the_streak_reads_right(app, user_factory,
                                                                                          demo_class, lang):
    (sue,) = await bound_users(user_factory, demo_class, "sue", lang=lang)
    await sue.say("/checkin")
    for _ in range(3):
        data = sue.replies[-1].flat_buttons()[0].data
        check = app.services.library.selfcheck_by_id(data.split(":")[2])
        await sue.say("1" if check.risky == "yes" else "2")       # the risky answer every time
    assert "⚠️" in sue.text
    assert "诈骗」类诈骗" not in sue.text and "类诈骗的信号" not in sue.text    # "「X诈骗」类诈骗" said it twice
    assert "a 'Impersonating" not in sue.text and "a 'Fake" not in sue.text    # "a 'Fake online loan' scam"
    assert "1 days" not in sue.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_done_drill_in_the_list_keeps_a_space_before_its_mark(app, user_factory, demo_class, lang):
    (gus,) = await bound_users(user_factory, demo_class, "gus", lang=lang)
    await gus.say("/drill brushing")
    await gus.say("/cancel")
    await gus.say("/drill brushing")
    await gus.say("1")                  # the unsafe answer: the drill goes on
    while gus.replies and gus.replies[-1].flat_buttons() and not gus.replies[-1].flat_buttons()[0].data.startswith("/"):
        await gus.say("1")
    await gus.say("/drill")
    marked = [b.label for b in gus.replies[-1].flat_buttons() if "↻" in b.label or "✅" in b.label]
    assert marked and all(" ↻" in label or " ✅" in label for label in marked), marked
