"""Handlers handled twice (a crash between their writes and the inbox's 'handled' mark, or a double tap)."""

from __future__ import annotations

from tests.office_support import chat
from tests.test_office_access import people  # noqa: F401  (the fixture)


async def _conversation(app) -> list[tuple]:
    return [tuple(r) for r in await app.store.db.fetchall("SELECT * FROM conversations ORDER BY account_id")]


async def _restore(app, rows: list[tuple]) -> None:
    """Put the conversations back as they were: the crash lost the step's save."""
    await app.store.db.execute("DELETE FROM conversations")
    for row in rows:
        marks = ",".join("?" * len(row))
        await app.store.db.execute(f"INSERT INTO conversations VALUES ({marks})", row)


async def test_a_publish_handled_again_after_a_crash_sends_nobody_anything_twice(app, people):  # noqa: F811
    sec = chat(app, "SEC")
    await sec.say("/warn")
    await sec.say("brushing-1")
    await sec.press_label("新生")
    before = await _conversation(app)
    publish = next(b.data for r in sec.replies for b in r.flat_buttons() if "确认发布" in b.label)
    await sec.press(publish)
    first = sec.text
    await _restore(app, before)             # the handled mark never committed: the press runs again
    await sec.press(publish)
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM office_warnings") == 1
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 3
    assert sec.text == first and "3 条进入发送队列" in sec.text
