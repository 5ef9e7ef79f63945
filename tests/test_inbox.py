"""The durable inbox: the crash windows, duplicates, media kept, recovery exactly once."""

from __future__ import annotations

from bot import inbox
from bot.app import App
from bot.events import Incoming, Kind, Media, Outgoing
from bot.outbox import OutboxSender
from tests.support import RecordingChannel

PLATFORM = "test"


def help_from(user: str) -> Incoming:
    """Someone typing /help on the test platform."""
    return Incoming(PLATFORM, user, f"chat-{user}", Kind.TEXT, "/help", language_hint="en")


async def restart(app, config, clock) -> tuple[App, RecordingChannel]:
    """Close the App as a dead process would leave the database, open a new one and recover."""
    await app.close()
    fresh = await App(config, clock=clock).open()
    channel = RecordingChannel(PLATFORM)
    fresh.add_channel(channel)
    return fresh, channel


async def drain(app, channel: RecordingChannel) -> None:
    """Send everything the outbox holds for the channel."""
    sender = OutboxSender(app.outbox, channel)
    while await sender.drain_once():
        pass


async def state_of(app, event_key: str) -> str:
    return await app.db.fetchval("SELECT state FROM inbox WHERE event_key = ?", (event_key,))


async def test_received_but_not_handled_is_handled_once_after_a_restart(app, config, clock):
    receipt = await inbox.receive(app, help_from("ann"), "test:1")
    assert receipt.new
    # the process dies here: the event is on disk, nobody handled it
    second, channel = await restart(app, config, clock)
    try:
        done = await inbox.recover(second, PLATFORM)
        assert (done.handled, done.resent, done.failed) == (1, 0, 0)
        await drain(second, channel)
        answers = channel.to("chat-ann")
        assert answers and "/start" in answers[0].text    # the real /help answer for a guest, in English
        assert await state_of(second, "test:1") == "replied"
        again = await inbox.recover(second, PLATFORM)
        assert (again.handled, again.resent) == (0, 0)
        await drain(second, channel)
        assert len(channel.to("chat-ann")) == len(answers)
    finally:
        await second.close()


async def test_handled_but_not_replied_is_sent_once_and_not_handled_again(app, config, clock):
    await inbox.receive(app, help_from("bo"), "test:2")
    replies = await inbox.handle(app, "test:2", help_from("bo"))
    assert await state_of(app, "test:2") == "handled"
    second, channel = await restart(app, config, clock)
    try:
        done = await inbox.recover(second, PLATFORM)
        assert (done.handled, done.resent) == (0, 1)
        await drain(second, channel)
        assert [m.text for m in channel.to("chat-bo")] == [r.text for r in replies]
        # a crash after the replies were queued but before 'replied' was written: recovery runs again
        await second.db.execute("UPDATE inbox SET state = 'handled' WHERE event_key = 'test:2'")
        rows = await second.db.fetchval("SELECT COUNT(*) FROM outbox")
        assert (await inbox.recover(second, PLATFORM)).resent == 1
        assert await second.db.fetchval("SELECT COUNT(*) FROM outbox") == rows   # the dedupe keys held
        await drain(second, channel)
        assert len(channel.to("chat-bo")) == len(replies)
    finally:
        await second.close()


async def test_a_duplicate_is_not_processed_twice(app):
    first = await inbox.receive(app, help_from("cy"), "test:3")
    during = await inbox.receive(app, help_from("cy"), "test:3")
    assert first.new and during.status == inbox.IN_PROGRESS
    await inbox.handle(app, "test:3", help_from("cy"))
    after_handling = await inbox.receive(app, help_from("cy"), "test:3")
    await inbox.mark_replied(app, "test:3")
    after_reply = await inbox.receive(app, help_from("cy"), "test:3")
    assert after_handling.status == after_reply.status == inbox.DUPLICATE
    assert await app.db.fetchval("SELECT COUNT(*) FROM inbox") == 1


async def test_an_event_left_received_too_long_is_taken_over_once(app, clock):
    await inbox.receive(app, help_from("di"), "test:4")
    clock.advance(minutes=6)
    assert (await inbox.receive(app, help_from("di"), "test:4")).status == inbox.IN_PROGRESS  # still handled here
    inbox.done_with(app, "test:4")                 # its handler died without moving the row on
    taken = await inbox.receive(app, help_from("di"), "test:4")
    again = await inbox.receive(app, help_from("di"), "test:4")
    assert taken.new and taken.taken_over
    assert again.status == inbox.IN_PROGRESS


async def test_media_is_kept_inline_or_in_a_file_and_pruned_with_its_row(app, config, clock):
    small = Incoming(PLATFORM, "ed", "chat-ed", Kind.MEDIA, "", media=Media("photo", "s.jpg", b"tiny", "image/jpeg"))
    big_bytes = bytes(range(256)) * 1024                    # 256 KB: goes to a file beside the database
    big = Incoming(PLATFORM, "ed", "chat-ed", Kind.MEDIA, "", media=Media("photo", "b i/g.jpg", big_bytes))
    await inbox.receive(app, small, "test:5")
    await inbox.receive(app, big, "test:6")
    files = list(inbox.media_dir(app).iterdir())
    assert len(files) == 1 and files[0].read_bytes() == big_bytes and "/" not in files[0].name[20:]
    stored = await app.db.fetchval("SELECT incoming FROM inbox WHERE event_key = 'test:6'")
    restored = await inbox.decode_incoming(stored)
    assert restored.media.data == big_bytes and restored.kind == Kind.MEDIA
    small_back = await inbox.decode_incoming(await app.db.fetchval(
        "SELECT incoming FROM inbox WHERE event_key = 'test:5'"))
    assert small_back.media.data == b"tiny" and small_back.media.mime_type == "image/jpeg"
    for key in ("test:5", "test:6"):
        await inbox.mark_replied(app, key)
    clock.advance(days=6)
    assert await inbox.prune(app) == 0
    clock.advance(days=2)
    assert await inbox.prune(app) == 2
    assert list(inbox.media_dir(app).iterdir()) == []


async def test_an_adapter_answer_without_the_dispatcher_is_recovered_too(app, config, clock):
    await inbox.receive(app, help_from("fa"), "test:7")
    second, channel = await restart(app, config, clock)
    try:
        async def cannot_fetch(row, msg):
            return inbox.Prepared(replies=[Outgoing(text="please send the picture again")], reply_to="elsewhere")

        assert (await inbox.recover(second, PLATFORM, prepare=cannot_fetch)).handled == 1
        await drain(second, channel)
        assert [m.text for m in channel.to("elsewhere")] == ["please send the picture again"]
    finally:
        await second.close()


async def test_an_event_whose_recovery_keeps_failing_is_set_aside(app):
    await inbox.receive(app, help_from("gu"), "test:8")

    async def broken(row, msg):
        raise RuntimeError("adapter bug")

    for attempt in range(inbox.GIVE_UP_AFTER):
        done = await inbox.recover(app, PLATFORM, prepare=broken)
        assert done.failed == 1, attempt
    assert await state_of(app, "test:8") == "failed"
    assert (await inbox.recover(app, PLATFORM, prepare=broken)).failed == 0
    assert (await inbox.receive(app, help_from("gu"), "test:8")).status == inbox.DUPLICATE


async def test_other_platforms_are_left_to_their_own_channel(app):
    await inbox.receive(app, Incoming("wechat_oa", "o-x", "o-x", Kind.TEXT, "/help"), "wechat_oa:id:1")
    assert (await inbox.recover(app, PLATFORM)).handled == 0
    assert await state_of(app, "wechat_oa:id:1") == "received"
