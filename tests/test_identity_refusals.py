"""Refused attempts alert the office once per burst and at most once an hour per chat, naming chat, person and tries."""

from __future__ import annotations

from tests.test_identity import a_real_case, roster
from tests.test_report_flow import cards, security_channel


async def alerts(app) -> list:
    return [m for m in await cards(app) if "越权尝试" in (m.text or "")]


async def test_a_sustained_attack_alerts_once_an_hour_and_names_the_chat_the_person_and_what_was_tried(
        app, user_factory, clock):
    class_code, _ = await roster(app)
    security_channel(app)
    await a_real_case(app)
    mallory = user_factory("mallory")
    await mallory.bind(class_code, "2023002", name="李四")
    for attempt in ("/reports", "/casefile R-2026-000001", "查看 R-2026-000001", "/stats", "/invite 2023001"):
        await mallory.say(attempt)
    first = await alerts(app)
    assert len(first) == 1
    alert = first[0].text
    assert "test 聊天 mallory" in alert and "2023002 李四" in alert
    assert "/reports" in alert and "查看 R-2026-000001" in alert and "/invite" in alert
    assert "屏幕共享" not in alert and "张三" not in alert          # no report detail, not the reporter
    for _ in range(25):                                             # one refusal every two minutes for 50 minutes
        clock.advance(minutes=2)
        await mallory.say("/reports")
    assert len(await alerts(app)) == 1
    clock.advance(minutes=11)
    for _ in range(5):
        await mallory.say("/stats")
    assert len(await alerts(app)) == 2                              # an hour on: the next burst is told again


async def test_four_refusals_do_not_alert_and_an_unbound_chat_is_named_by_its_chat(app, user_factory):
    await roster(app)
    security_channel(app)
    stranger = user_factory("stranger")
    for attempt in ("/reports", "/stats", "/class", "/invite 2023001"):
        await stranger.say(attempt)
    assert await alerts(app) == []
    await stranger.press("rep:ack:R-2026-000001")
    [alert] = await alerts(app)
    assert "test 聊天 stranger" in alert.text and "绑定的是" not in alert.text and "rep:ack:R-2026-000001" in alert.text
