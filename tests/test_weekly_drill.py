"""The weekly activity as a drill: each person gets a drill they have not met; no drill left, a case."""

from __future__ import annotations

from handlers.drill import drills_of_library
from handlers.program_jobs import push_weekly_warning
from handlers.weekly_drill import drill_week
from tests.program_support import bound_users, drain
from tests.support import RecordingChannel


def test_which_weeks_are_drill_weeks():
    assert not drill_week("case", "2026-11-25")
    assert drill_week("drill", "2026-11-25")
    assert drill_week("alternate", "2026-11-25") != drill_week("alternate", "2026-12-02")


async def test_a_drill_week_invites_each_person_to_a_drill_once(app, user_factory, demo_class):
    app.config.program.weekly_activity = "drill"
    alice, _bob = await bound_users(user_factory, demo_class, "alice", "bob")
    channel = RecordingChannel("test")
    summary = await push_weekly_warning(app, day="2026-11-25")
    assert summary.queued == 2
    sent = await drain(app, channel)
    assert len(sent) == 2
    for _, message in sent:
        assert message.text.startswith("【演练】")
        assert message.buttons[0][0].data.startswith("/drill ")
    again = await push_weekly_warning(app, day="2026-11-25")
    assert again.queued == 0 and await drain(app, channel) == []
    # Pressing the invitation starts the drill it names.
    await alice.press(sent[0][1].buttons[0][0].data)
    assert "【演练】" in alice.text


async def test_someone_who_met_every_drill_gets_a_case_instead(app, user_factory, demo_class):
    app.config.program.weekly_activity = "drill"
    await bound_users(user_factory, demo_class, "carol")
    person = await app.store.people.by_number("2023001")


    for drill_id in drills_of_library(app.services.library):
        await app.store.drills.assign(drill_id, [person.id], None, "test")
    channel = RecordingChannel("test")
    summary = await push_weekly_warning(app, day="2026-11-25")
    assert summary.queued == 1
    (_, message), = await drain(app, channel)
    assert not message.text.startswith("【演练】")
    assert message.buttons and message.buttons[0][0].data.startswith("warn:")
