"""The one inbound pipeline: one person's events in order, other people side by side."""

from __future__ import annotations


async def test_one_persons_events_wait_their_turn_and_others_do_not(app):
    import asyncio

    order: list[str] = []

    async def event(session: str, name: str, pause: float) -> None:
        async with app.pipeline.ordered(session):
            order.append(f"{name}+")
            await asyncio.sleep(pause)
            order.append(f"{name}-")

    await asyncio.gather(event("a", "a1", 0.02), event("a", "a2", 0), event("a", "a3", 0), event("b", "b1", 0))
    assert order.index("a1-") < order.index("a2+") < order.index("a2-") < order.index("a3+")
    assert order.index("b1-") < order.index("a1-")            # another person is not held up
    assert app.pipeline._locks == {}
