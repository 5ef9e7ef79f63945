"""The durable inbox: every platform event is written down before it is handled, so nothing is lost.

An adapter calls `receive` when an event arrives (a duplicate or an event still being handled is
reported, so it is not processed twice), `handle` to run the dispatcher and keep the replies
('handled'), and `mark_replied` once the replies are out or queued in the outbox ('replied').
At start each channel calls `recover`: events still 'received' are handled now, and the replies of
events still 'handled' go out through the outbox with dedupe keys, so recovering twice sends nothing
twice. With several servers on one database each row names the process that took it in, and
recovery first claims a row: one whose owner is another process still beating (see bot/leader.py)
is left to it, so a server starting, or the minute job, never handles a live peer's event again.

The window that remains: a handler's own database writes (a pledge, a report, a conversation step)
and the 'handled' mark are separate transactions. A crash exactly between them re-runs that one
handler at recovery; handlers guard their own effects (unique rows, dedupe keys), so the repeat is
harmless in practice but not impossible to notice. Likewise an adapter that sent a reply live
(Telegram) and died before `mark_replied` sends that reply once more at recovery.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import logging
import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from bot.clock import iso, parse_iso
from bot.events import Incoming, Kind, Media, Outgoing
from bot.leader import alive_since
from storage.inbox import InboxRow

log = logging.getLogger(__name__)

NEW, IN_PROGRESS, DUPLICATE = "new", "in_progress", "duplicate"
STALE = timedelta(minutes=1)      # an open row this old whose handler is not running (see `live`) died
LIVE_MAX = timedelta(minutes=10)  # a handler still counted as running this long is taken for stuck
KEEP = timedelta(days=7)          # replied rows are kept this long (answers to late retries, support)
INLINE_MEDIA_BYTES = 64 * 1024    # smaller media is kept in the row as base64, larger in a file
GIVE_UP_AFTER = 3                 # recoveries of one event that may fail before it is set aside


@dataclass
class Receipt:
    """What `receive` found: a new event to handle, one in progress, or one already handled."""

    event_key: str
    status: str
    taken_over: bool = False      # a stale 'received' row (its handler died) claimed for handling again

    @property
    def new(self) -> bool:
        """Whether the caller should handle the event now."""
        return self.status == NEW


@dataclass
class Prepared:
    """An adapter's answer when recovery asks it to redo its part of an event."""

    msg: Incoming | None = None            # the event to hand to the dispatcher
    replies: list[Outgoing] | None = None  # or the adapter's own answer (a picture that cannot be fetched)
    reply_to: str | None = None            # where the replies go, when not the stored address


@dataclass
class Recovery:
    """What `recover` did."""

    handled: int = 0      # events handled now (their handling died with the process)
    resent: int = 0       # events whose stored replies were queued (their sending died with the process)
    failed: int = 0       # events whose recovery failed this time
    pruned: int = 0


Prepare = Callable[[InboxRow, Incoming | None], Awaitable[Prepared | None]]
Push = Callable[[InboxRow, str, list[Outgoing]], Awaitable[None]]


# --- the live path -------------------------------------------------------------------------------------------

# The events this process is handling now, by app: event key -> when its handling began. A row
# carries the process that took it in (inbox.owner); an open row of ours not in here past STALE has
# no handler alive, and the minute job finishes it (`recover(stale_only=True)`) without touching live
# work. A row of another process is finished here only once that process stopped beating (it died):
# on SQLite one process serves a file, so no other is ever alive.
_live: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def live(app) -> dict[str, object]:
    """The event keys this process is handling now, each with the time its handling began."""
    return _live.setdefault(app, {})


def begin(app, event_key: str) -> None:
    """An event's handling starts in this process (it is no one else's to finish)."""
    live(app)[event_key] = app.clock.now()


def done_with(app, event_key: str) -> None:
    """An event's handler ended, well or not: a row it left open is the minute job's to finish."""
    live(app).pop(event_key, None)


def _is_live(app, event_key: str) -> bool:
    began = live(app).get(event_key)
    return began is not None and app.clock.now() - began < LIVE_MAX


async def receive(app, msg: Incoming | None, event_key: str, *, platform: str | None = None,
                  raw: str | None = None, reply_to: str | None = None) -> Receipt:
    """Write the event down before it is handled; report a duplicate or an event still in progress."""
    platform = msg.platform if msg is not None else (platform or event_key.split(":", 1)[0])
    encoded = await encode_incoming(app, msg, event_key) if msg is not None else None
    address = reply_to if reply_to is not None else (msg.chat_key if msg is not None else "")
    session = msg.session_id() if msg is not None else None
    row = await app.store.inbox.record(platform, event_key, encoded, raw, address, session)
    if row is None:
        begin(app, event_key)
        return Receipt(event_key, NEW)
    if row.state == "received":
        if (not _is_live(app, event_key) and app.clock.now() - parse_iso(row.received_at) > STALE
                and await app.store.inbox.take_over(row, alive_since(app))):
            log.warning("inbox: %s was left unhandled; handling it now", event_key)
            begin(app, event_key)
            return Receipt(event_key, NEW, taken_over=True)
        return Receipt(event_key, IN_PROGRESS)
    return Receipt(event_key, DUPLICATE)


async def receive_many(app, platform: str, events: list[tuple]) -> set[str]:
    """Write down a batch of (event_key, raw[, session]) events in one transaction; return the keys to handle.

    A key already known is not handled again here: a stale one of those is recovery's job at start.
    """
    fresh = await app.store.inbox.record_many(platform, [(key, raw, "", *rest) for key, raw, *rest in events])
    for key in fresh:
        begin(app, key)
    return fresh


async def handle(app, event_key: str, msg: Incoming, reply_to: str | None = None) -> list[Outgoing]:
    """Run the dispatcher on a received event and keep its replies (state 'handled')."""
    try:
        encoded = await encode_incoming(app, msg, event_key)     # before the dispatcher rewrites kind / payload
        replies = await app.handle(msg)
        await app.store.inbox.set_handled(event_key, _dump_replies(replies), encoded, reply_to)
    except BaseException:
        done_with(app, event_key)
        raise
    return replies


async def record_replies(app, event_key: str, replies: list[Outgoing], reply_to: str | None = None) -> None:
    """Keep replies the adapter made itself (no dispatcher run) and mark the event handled."""
    await app.store.inbox.set_handled(event_key, _dump_replies(replies), None, reply_to)


async def mark_replied(app, event_key: str) -> None:
    """The event's replies are sent or safely in the outbox: the event is done."""
    try:
        await app.store.inbox.set_replied(event_key)
    finally:
        done_with(app, event_key)


# --- at start ------------------------------------------------------------------------------------------------

async def recover(app, platform: str, prepare: Prepare | None = None, push: Push | None = None,
                  stale_only: bool = False) -> Recovery:
    """Finish a platform's events a previous process left: handle 'received' ones, resend 'handled' ones.

    Run it before the channel takes new events. `prepare` lets the adapter redo its part of a
    'received' event (convert a raw update, fetch media); `push` queues replies the adapter's way
    (default: one outbox row per reply to the stored address, keyed by event key and index).
    stale_only (while running): only events older than STALE, whose handling died (a database
    that failed mid-handling) rather than is under way.
    """
    done = Recovery(pruned=0 if stale_only else await prune(app))
    push = push or _push_default(app)
    before = iso(app.clock.now() - STALE) if stale_only else None
    for row in await app.store.inbox.open_rows(platform, before):
        if stale_only and _is_live(app, row.event_key):     # slow, not dead: its own handler finishes it
            continue
        if not await app.store.inbox.claim(row.id, alive_since(app)):   # another live process is on it
            continue
        begin(app, row.event_key)
        try:
            if row.state == "received":
                outcome = await _handle_again(app, row, prepare)
                if outcome is None:
                    await mark_replied(app, row.event_key)
                    done.handled += 1
                    continue
                reply_to, replies = outcome
                done.handled += 1
            else:
                reply_to, replies = row.reply_to, _load_replies(row.replies)
                done.resent += 1
            await push(row, reply_to, replies)
            await mark_replied(app, row.event_key)
        except Exception as exc:   # one bad event must not keep the channel from starting
            log.exception("inbox: recovering %s failed", row.event_key)
            done.failed += 1
            if await app.store.inbox.note_failure(row.id, f"{type(exc).__name__}: {exc}", GIVE_UP_AFTER):
                log.error("inbox: %s set aside after %d failed recoveries", row.event_key, GIVE_UP_AFTER)
        finally:
            done_with(app, row.event_key)
    if done.handled or done.resent or done.failed:
        log.warning("inbox %s: handled %d events and resent the replies of %d left by the last process"
                    " (%d failed)", platform, done.handled, done.resent, done.failed)
    return done


async def _handle_again(app, row: InboxRow, prepare: Prepare | None) -> tuple[str, list[Outgoing]] | None:
    """Handle a 'received' row now; (address, replies), or None when there is nothing to answer."""
    msg = await decode_incoming(row.incoming) if row.incoming else None
    reply_to = row.reply_to
    if prepare is not None:
        prepared = await prepare(row, msg)
        if prepared is None:
            return None
        reply_to = prepared.reply_to or reply_to
        if prepared.replies is not None:
            await record_replies(app, row.event_key, prepared.replies, reply_to)
            return reply_to, prepared.replies
        msg = prepared.msg
    if msg is None:
        raise ValueError("a received event with no stored Incoming and no adapter to convert its raw form")
    return reply_to, await handle(app, row.event_key, msg, reply_to)


def _push_default(app) -> Push:
    async def push(row: InboxRow, reply_to: str, replies: list[Outgoing]) -> None:
        for index, reply in enumerate(replies):
            # An answer the person is waiting for: never held back by quiet hours.
            await app.outbox.push_to_address(row.platform, reply_to, "reply", dataclasses.replace(reply, urgent=True),
                                             dedupe_key=f"inbox:{row.event_key}:{index}", priority=0)
    return push


async def prune(app) -> int:
    """Forget replied events older than KEEP, and their media files."""
    removed = await app.store.inbox.prune_replied(iso(app.clock.now() - KEEP))
    for encoded in removed:
        path = (json.loads(encoded).get("media") or {}).get("path") if encoded else None
        if path:
            await asyncio.to_thread(Path(path).unlink, missing_ok=True)
    return len(removed)


# --- the stored form -----------------------------------------------------------------------------------------

def media_dir(app) -> Path:
    """Where media too large for a row is kept: beside the database."""
    return app.config.data_dir / "inbox"


async def encode_incoming(app, msg: Incoming, event_key: str) -> str:
    """The neutral event as JSON; media bytes inline (small) or in a file under the data dir."""
    data = {
        "platform": msg.platform, "user_key": msg.user_key, "chat_key": msg.chat_key, "kind": str(msg.kind),
        "payload": msg.payload, "command": msg.command, "language_hint": msg.language_hint,
        "is_group": msg.is_group, "security_group": msg.security_group, "media": None,
    }
    if msg.media is not None:
        media = {"kind": msg.media.kind, "filename": msg.media.filename, "mime_type": msg.media.mime_type}
        if len(msg.media.data) <= INLINE_MEDIA_BYTES:
            media["base64"] = base64.b64encode(msg.media.data).decode("ascii")
        else:
            digest = hashlib.sha256(event_key.encode("utf-8")).hexdigest()[:20]
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", msg.media.filename)[-80:]
            path = media_dir(app) / f"{digest}-{safe}"
            await asyncio.to_thread(_write_file, path, msg.media.data)
            media["path"] = str(path)
        data["media"] = media
    return json.dumps(data, ensure_ascii=False)


async def decode_incoming(encoded: str) -> Incoming:
    """Rebuild an Incoming stored by encode_incoming (raw is not kept: the adapter keeps its own)."""
    data = json.loads(encoded)
    media = data.pop("media", None)
    msg = Incoming(**{**data, "kind": Kind(data["kind"])})
    if media is not None:
        if "path" in media:
            content = await asyncio.to_thread(Path(media["path"]).read_bytes)
        else:
            content = base64.b64decode(media["base64"])
        msg = replace(msg, media=Media(media["kind"], media["filename"], content, media["mime_type"]))
    return msg


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _dump_replies(replies: list[Outgoing]) -> str:
    return json.dumps([r.to_dict() for r in replies], ensure_ascii=False)


def _load_replies(encoded: str | None) -> list[Outgoing]:
    return [Outgoing.from_dict(d) for d in json.loads(encoded or "[]")]
