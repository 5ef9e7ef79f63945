"""What the Official Account and WeCom adapters share: guarded callbacks, passive replies, API calls."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from wechatpy.exceptions import WeChatClientException

from bot import inbox
from bot.choices import offered, option_lines
from bot.events import Incoming, Kind, Media, Outgoing, text
from storage.db import DatabaseError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024                 # WeChat callbacks are a few hundred bytes; anything this big is not one
TEXT_BYTES = 2000                    # passive replies and text messages are capped at 2048 bytes
TOKEN_CODES = (40001, 40014, 42001)  # invalid credential, invalid token, expired token: fetch a new one
SUCCESS = "success"


class Refused(Exception):
    """A callback we will not touch: carries the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refuse(request: web.Request, status: int, reason: str) -> web.Response:
    """Log a refused callback with the peer address and answer it with a bare status."""
    peer = request.remote or "?"
    log.warning("refused %s %s from %s: %d %s", request.method, request.path, peer, status, reason)
    return web.Response(status=status, text=reason)


async def read_body(request: web.Request) -> bytes:
    """The request body, refusing anything over MAX_BODY before reading it all."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Refused(413, "body too large")
    try:
        body = await request.read()       # the server's middleware has usually read it already, with a timeout
    except web.HTTPRequestEntityTooLarge as exc:
        raise Refused(413, "body too large") from exc
    if len(body) > MAX_BODY:
        raise Refused(413, "body too large")
    return body


def safe_xml_fields(body: bytes | str) -> dict[str, str]:
    """Parse a WeChat XML document with defusedxml (no DTD, no entities) into its top-level fields."""
    if not body or not str(body).strip():
        raise Refused(400, "empty body")
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise Refused(400, f"XML with a DTD or entities refused ({type(exc).__name__})") from exc
    except (ParseError, ValueError, TypeError) as exc:
        raise Refused(400, "malformed XML") from exc
    if root.tag != "xml":
        raise Refused(400, "not a WeChat message")
    return {child.tag: (child.text or "") for child in root}


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Text that survives inside wechatpy's CDATA sections: ']]>' split across two, XML-illegal characters gone."""
    return _NOT_XML.sub("", value).replace("]]>", "]]]]><![CDATA[>")


def api_root(base: str) -> str:
    """An API base URL as '<host>/cgi-bin/', whether it was given with or without '/cgi-bin/'."""
    root = base.rstrip("/")
    return (root if root.endswith("/cgi-bin") else root + "/cgi-bin") + "/"


def message_key(fields: dict[str, str]) -> str:
    """The dedupe key of a callback: its MsgId, or sender + CreateTime (+ event) for events."""
    msg_id = fields.get("MsgId") or fields.get("MsgID") or ""
    if msg_id and msg_id != "0":
        return f"id:{msg_id}"
    return f"ev:{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}:{fields.get('Event', '')}"


# --- rendering -----------------------------------------------------------------------------------------------

@dataclass
class Part:
    """One thing to send: a text, an image or a file."""

    kind: str            # text, image, file
    text: str = ""
    data: bytes = b""
    filename: str = ""


def split_text(body: str, limit: int = TEXT_BYTES) -> list[str]:
    """Cut text into pieces of at most limit UTF-8 bytes, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in body.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:      # one very long line: cut it by characters
            cut = len(line)
            while len(line[:cut].encode("utf-8")) > limit:
                cut = cut * 3 // 4
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current.strip() or not pieces:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces]


def render_text(message: Outgoing, buttons_hint: str, quiz_hint: str) -> str:
    """A message as WeChat text: lettered quiz options, numbered buttons, and how to answer them."""
    lines: list[str] = []
    if message.quiz is not None:
        lines.append(message.quiz.question)
        lines += option_lines(message)
        lines.append(quiz_hint)
    elif message.text:
        lines.append(message.text)
    if message.buttons and message.quiz is None:
        lines.append("")
        lines += option_lines(message)
        lines.append(buttons_hint)
    return "\n".join(lines).strip("\n")


def render_parts(message: Outgoing, buttons_hint: str, quiz_hint: str) -> list[Part]:
    """What to send for one message, in order: text pieces, then the image or file."""
    parts = [Part("text", piece) for piece in split_text(render_text(message, buttons_hint, quiz_hint))
             if piece.strip()]
    if message.image is not None:
        parts.append(Part("image", data=message.image, filename=message.filename or "wuzha.png"))
    if message.file is not None:
        parts.append(Part("file", data=message.file, filename=message.filename or "wuzha.bin"))
    return parts


def part_message(part: Part) -> Outgoing:
    """A rendered part as a message that renders to itself (for the send API later)."""
    if part.kind == "image":
        return Outgoing(image=part.data, filename=part.filename)
    if part.kind == "file":
        return Outgoing(file=part.data, filename=part.filename)
    return Outgoing(text=part.text)


class Hints:
    """The 'reply with the number / letter' lines in each account's language."""

    def __init__(self, app, platform: str) -> None:
        self.app, self.platform = app, platform

    async def language(self, user_key: str) -> str:
        """The account's language, or the configured default."""
        account = await self.app.store.accounts.find(self.platform, user_key)
        return (account.language if account else None) or self.app.config.general.default_language

    async def parts(self, message: Outgoing, user_key: str) -> list[Part]:
        """Render a message for one person."""
        lang = await self.language(user_key)
        translate = self.app.services.translate
        return render_parts(message, translate("wechat.reply_number", lang), translate("wechat.reply_letter", lang))

    async def remember_choices(self, message: Outgoing, user_key: str) -> None:
        """After a push with options (an office card to a member), let '2' / 'B' answer it on WeChat too."""
        choices = offered(message)
        if not choices:
            return
        account = await self.app.store.accounts.find(self.platform, user_key)
        if account is not None:
            await self.app.store.choices.set(account.id, choices)


# --- synchronous wechatpy clients, off the event loop --------------------------------------------------------

class ApiRunner:
    """Runs a wechatpy client's calls in threads, a few at a time, keeping its token in the database."""

    def __init__(self, client, store, kv_key: str, concurrency: int = 8) -> None:
        self.client = client
        self.store = store
        self.kv_key = kv_key
        self._semaphore = asyncio.Semaphore(concurrency)
        self._token_lock = threading.Lock()
        self._saved: str | None = None
        self.token_fetches = 0

    async def load_token(self) -> bool:
        """Reuse a token cached by an earlier run if it is still good for a minute; True if one was."""
        raw = await self.store.kv.get(self.kv_key)
        if not raw:
            return False
        data = json.loads(raw)
        if data.get("expires_at", 0) - time.time() <= 60:
            return False
        self.client.session.set(self.client.access_token_key, data["token"])
        self.client.expires_at = int(data["expires_at"])
        self._saved = data["token"]
        return True

    async def call(self, fn, *args, **kwargs):
        """Run one client call off the loop; a stale token is replaced once and the call repeated."""
        async with self._semaphore:
            try:
                return await asyncio.to_thread(self._call_with_token, fn, *args, **kwargs)
            finally:
                await self._persist_token()

    def _current(self) -> str | None:
        return self.client.session.get(self.client.access_token_key)

    def _ensure_token(self, stale: str | None = None) -> None:
        with self._token_lock:
            token = self._current()
            fresh = token and self.client.expires_at and self.client.expires_at - time.time() > 60
            if token != stale and fresh:
                return
            self.client.fetch_access_token()
            self.token_fetches += 1

    def _call_with_token(self, fn, *args, **kwargs):
        self._ensure_token()
        used = self._current()
        try:
            return fn(*args, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_CODES:
                raise
            log.info("access token refused (%s); fetching a new one", exc.errcode)
            self._ensure_token(stale=used)
            return fn(*args, **kwargs)

    async def _persist_token(self) -> None:
        token = self._current()
        if token and token != self._saved and self.client.expires_at:
            self._saved = token
            await self.store.kv.set(self.kv_key, json.dumps({"token": token, "expires_at": self.client.expires_at}))


def error_code(exc: Exception) -> int | None:
    """The WeChat errcode of a client exception, if it has one."""
    code = getattr(exc, "errcode", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


class Interactions:
    """Notes each person's last interaction (the 48 h window), writing it at most once a minute per person."""

    EVERY_S = 60.0      # the window is 48 h: a minute's precision saves a database write on almost every callback

    def __init__(self, app, platform: str) -> None:
        self.app, self.platform = app, platform
        self._written: dict[str, float] = {}

    async def touch(self, user_key: str) -> None:
        """Record that the person just wrote to us, unless that was recorded less than a minute ago."""
        now = self.app.clock.now().timestamp()
        if 0 <= now - self._written.get(user_key, -self.EVERY_S) < self.EVERY_S:
            return
        await self.app.store.wechat.touch_interaction(self.platform, user_key)
        self._written[user_key] = now
        if len(self._written) > 100_000:
            self._written = {k: t for k, t in self._written.items() if now - t < self.EVERY_S}


# --- passive replies ----------------------------------------------------------------------------------------

@dataclass
class PassiveAnswer:
    """The passive reply's text (None: answer 'success') and what to do once the response is written."""

    text: str | None = None
    finish: object = None            # async callable(written): queue the follow-ups, mark the callback replied

    async def done(self, written: bool = True) -> None:
        """Run the after-response step; written=False also sends the passive text through the send API."""
        if self.finish is not None:
            await self.finish(written)


async def respond(request: web.Request, response: web.StreamResponse, answer: PassiveAnswer) -> web.StreamResponse:
    """Write the passive reply to the platform first, then queue what follows it (so it cannot overtake it)."""
    written = False
    try:
        await response.prepare(request)
        await response.write_eof()
        written = True
    except ConnectionError as exc:            # the platform hung up: the whole answer goes by the send API
        log.debug("%s %s: client went away before the reply was written (%s)", request.method, request.path,
                  type(exc).__name__)
    finally:
        await answer.done(written)
    return response


class StorageFailing(Exception):
    """A callback could not be written down: it is not answered 'success', so the platform sends it again."""


STORAGE_FAULTS = (*DatabaseError, OSError)   # a held lock past the busy timeout, a full disk


class StorageAlarm:
    """One log line and one office notice per spell of failing storage on a channel's callbacks."""

    def __init__(self, app, platform: str) -> None:
        self.app = app
        self.platform = platform
        self.failing_since: float | None = None
        self.refused = 0

    async def failed(self, exc: BaseException) -> None:
        """A write failed: the first time in a spell, log it and tell the office in plain words."""
        self.refused += 1
        if self.failing_since is not None:
            return
        self.failing_since = time.monotonic()
        log.error("%s: cannot store incoming callbacks (%s: %s); they are answered 503 so the platform sends"
                  " them again", self.platform, type(exc).__name__, exc)
        await self._tell("inbox.storage_failing_wechat", error=f"{type(exc).__name__}: {exc}"[:120])

    async def worked(self) -> None:
        """A write worked: end the spell (one line, and the office hears it is over)."""
        if self.failing_since is None:
            return
        log.warning("%s: storing callbacks works again after %.0f s (%d callbacks refused meanwhile)",
                    self.platform, time.monotonic() - self.failing_since, self.refused)
        self.failing_since, self.refused = None, 0
        await self._tell("inbox.storage_back")

    async def _tell(self, key: str, **values) -> None:
        """Past the database and the outbox (both may be what fails): a channel that can post directly."""
        for channel in list(self.app.channels.values()):
            notify = getattr(channel, "notify_office_now", None)
            if notify is None:
                continue
            try:
                await notify(key, values)
            except Exception as exc:    # a courtesy: never in the way of answering the platform
                log.warning("could not tell the office about the storage: %s", exc)
            return


class PassiveReplies:
    """Handles a callback within WeChat's budget: the first reply goes back in the HTTP response,
    everything else (or everything, when the handler is slow) through the channel's send API via the outbox."""

    def __init__(self, app, channel, budget_s: float) -> None:
        self.app = app
        self.channel = channel
        self.platform = channel.name
        self.budget_s = budget_s
        self.hints = Hints(app, channel.name)
        self.alarm = StorageAlarm(app, channel.name)
        self._tasks: set[asyncio.Task] = set()

    @asynccontextmanager
    async def storing(self):
        """Around the writes that take a callback in: a storage fault becomes StorageFailing (answer 503)."""
        try:
            yield
        except STORAGE_FAULTS as exc:
            await self.alarm.failed(exc)
            raise StorageFailing(str(exc)) from exc

    async def answer(self, incoming: Incoming, msg_key: str, prepare=None, raw: str | None = None) -> PassiveAnswer:
        """The passive reply, its text None to answer 'success' (retry, slow handler, nothing to say).

        Its follow-ups are queued by `done()` once the response is written (see `respond`), so the
        send API never delivers a later part before the platform has shown the first.

        The callback is written to the inbox before it is handled: a retry of one in progress or done
        is answered without handling it again, and one whose handling died with the process is
        finished by `recover` at the next start.
        """
        event_key = self.event_key(msg_key)
        async with self.storing():
            receipt = await inbox.receive(self.app, incoming, event_key, raw=raw)
        await self.alarm.worked()
        if not receipt.new:
            log.info("%s retry of %s answered without handling it again (%s)", self.platform, msg_key,
                     receipt.status)
            return PassiveAnswer()
        task = asyncio.create_task(self._handle(incoming, prepare, event_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            replies = await asyncio.wait_for(asyncio.shield(task), self.budget_s)
        except TimeoutError:
            log.info("%s %s: reply not ready within %.1fs; it goes through the send API", self.platform, msg_key,
                     self.budget_s)
            follow = asyncio.create_task(self._send_when_done(task, incoming.user_key, msg_key))
            self._tasks.add(follow)
            follow.add_done_callback(self._tasks.discard)
            return PassiveAnswer()
        except STORAGE_FAULTS as exc:    # stored, then the database failed under the handler: the minute job
            log.error("%s %s: handling failed on storage (%s: %s); it is finished once writes work",
                      self.platform, msg_key, type(exc).__name__, exc)
            return PassiveAnswer()
        parts = await self._render(replies, incoming.user_key)
        first, start = (parts[0].text, 1) if parts and parts[0].kind == "text" else (None, 0)

        async def finish(written: bool) -> None:
            try:
                await self._queue(parts, start if written else 0, incoming.user_key, msg_key)
                await inbox.mark_replied(self.app, event_key)
            except STORAGE_FAULTS as exc:     # the row stays 'handled': the minute job queues the rest
                log.error("%s %s: the rest of the answer could not be queued (%s: %s); it is queued once writes work",
                          self.platform, msg_key, type(exc).__name__, exc)
                inbox.done_with(self.app, event_key)

        return PassiveAnswer(first, finish)

    def event_key(self, msg_key: str) -> str:
        """The inbox key of a callback: 'wechat_oa:id:<MsgId>' or 'wecom:ev:<user>:<CreateTime>:<Event>'."""
        return f"{self.platform}:{msg_key}"

    async def _handle(self, incoming: Incoming, prepare, event_key: str) -> list[Outgoing]:
        try:
            if prepare is not None:
                prepared = await prepare(incoming)
                if isinstance(prepared, list):       # the adapter answered itself (a picture that did not arrive)
                    await inbox.record_replies(self.app, event_key, prepared)
                    return prepared
                incoming = prepared
            async with self.app.pipeline.ordered(incoming.session_id(), event_key):   # one person's, in order
                return await inbox.handle(self.app, event_key, incoming)
        except BaseException:
            inbox.done_with(self.app, event_key)     # the row is left open: the minute job finishes it
            raise

    async def _send_when_done(self, task: asyncio.Task, user_key: str, msg_key: str) -> None:
        try:
            replies = await task
            await self._queue(await self._render(replies, user_key), 0, user_key, msg_key)
            await inbox.mark_replied(self.app, self.event_key(msg_key))
        except STORAGE_FAULTS as exc:    # the row stays open: the minute job finishes it once writes work
            log.error("%s %s: answer not queued (%s: %s); it is queued once writes work", self.platform, msg_key,
                      type(exc).__name__, exc)
            inbox.done_with(self.app, self.event_key(msg_key))
        except Exception:
            log.exception("%s handler for %s failed", self.platform, msg_key)
            inbox.done_with(self.app, self.event_key(msg_key))

    def stale_recovery(self, parse):
        """The channel's `recover_stale` (run by the minute job): callbacks whose handling died while running."""
        async def recover_stale() -> inbox.Recovery:
            return await self.recover(parse, stale_only=True)
        return recover_stale

    async def recover(self, parse, stale_only: bool = False) -> inbox.Recovery:
        """At start: finish the callbacks a previous process took in but did not answer (parse: XML to message).

        stale_only (while running): only those whose handling died a minute or more ago.
        """
        async def prepare(row, msg: Incoming | None) -> inbox.Prepared:
            if msg is None:
                raise ValueError("a WeChat callback stored without its Incoming")
            if msg.kind == Kind.MEDIA and msg.media is None and row.raw:
                msg = replace(msg, raw=parse(row.raw))   # the media id and format, to fetch the picture again
                prepared = await fetch_media_into(msg, self.channel, self.app)
                return inbox.Prepared(replies=prepared) if isinstance(prepared, list) else inbox.Prepared(prepared)
            return inbox.Prepared(msg)

        return await inbox.recover(self.app, self.platform, prepare=prepare, push=self.push_replies,
                                   stale_only=stale_only)

    async def push_replies(self, row, user_key: str, replies: list[Outgoing]) -> None:
        """Recovery: queue a stored answer through the send API, keyed exactly as the live path keys it."""
        await self._queue(await self._render(replies, user_key), 0, user_key, row.event_key.split(":", 1)[1])

    async def _render(self, replies: list[Outgoing], user_key: str) -> list[Part]:
        return [part for reply in replies for part in await self.hints.parts(reply, user_key)]

    async def _queue(self, parts: list[Part], start: int, user_key: str, msg_key: str) -> None:
        """Queue parts[start:] through the send API.

        Each part's dedupe key is its index among all parts, passive or not, so a recovery that
        queues every part again adds only the ones the dead process had not queued.
        """
        for index in range(start, len(parts)):
            message = part_message(parts[index])
            message.urgent = True   # an answer the person is waiting for: never held back by quiet hours
            await self.app.outbox.push_to_address(
                self.platform, user_key, "reply", message, dedupe_key=f"reply:{self.platform}:{msg_key}:{index}",
                priority=0,
            )

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let handlers still running finish (their replies are queued), up to grace_s seconds."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)


# --- callbacks into neutral events -------------------------------------------------------------------------

JOIN_EVENTS = ("subscribe", "subscribe_scan")
MEDIA_TYPES = ("image", "voice", "video", "shortvideo")


def incoming_from(message, platform: str) -> Incoming | None:
    """A parsed wechatpy message as an Incoming; None for events (and unknown documents) that need no answer."""
    user = message.source
    kind, payload = Kind.TEXT, ""
    msg_type = getattr(message, "type", "")
    if msg_type == "event":
        event = getattr(message, "event", "")
        if event in JOIN_EVENTS:
            kind = Kind.JOIN
        elif event == "unsubscribe":
            kind = Kind.LEAVE
        elif event == "click":
            kind, payload = Kind.BUTTON, (message.key or "").strip()
        else:
            return None                      # view, location, enter_agent, popups, ...: nothing to say
    elif msg_type == "unknown":
        # Events and message types wechatpy does not know (change_contact, template_card_event, calendar,
        # subscribe_msg_*_event, ...) are system traffic, acknowledged with 'success' and nothing else.
        return None
    elif msg_type == "text":
        payload = message.content or ""
    elif msg_type == "link":                 # a forwarded article or link card: "is this a scam?"
        payload = "\n".join(p for p in (message.title, message.description, message.url) if p)
    elif msg_type == "voice" and (getattr(message, "recognition", None) or "").strip():
        payload = message.recognition.strip()
    elif msg_type in MEDIA_TYPES:
        kind = Kind.MEDIA
    incoming = Incoming(platform=platform, user_key=user, chat_key=user, kind=kind, payload=payload, raw=message)
    return incoming


async def fetch_media_into(incoming: Incoming, channel, app) -> Incoming | list[Outgoing]:
    """Give a picture or voice callback its bytes (report evidence); a polite answer if they cannot be had."""
    if incoming.kind != Kind.MEDIA:
        return incoming
    message = incoming.raw
    limit = app.config.reports.evidence_max_mb * 1024 * 1024
    lang = await channel.hints.language(incoming.user_key)
    try:
        data = await channel.fetch_media(message.media_id)
    except Exception as exc:
        log.warning("%s: media %s could not be fetched: %s", channel.name, message.media_id, exc)
        return [text(app.services.translate("wechat.media_failed", lang))]
    if len(data) > limit:
        mb = app.config.reports.evidence_max_mb
        return [text(app.services.translate("wechat.media_too_large", lang, mb=mb))]
    if message.type == "image":
        return replace(incoming, media=Media("photo", f"{message.media_id}.jpg", data, "image/jpeg"))
    if message.type in ("video", "shortvideo"):
        return replace(incoming, media=Media("document", f"{message.media_id}.mp4", data, "video/mp4"))
    fmt = (getattr(message, "format", "") or "amr").lower()
    return replace(incoming, media=Media("voice", f"{message.media_id}.{fmt}", data, f"audio/{fmt}"))


class Running:
    """What `wuzha serve` stops at the end of a WeChat channel's life."""

    def __init__(self, *parts) -> None:
        self.parts = parts

    async def stop(self) -> None:
        """Let running handlers finish and queue their replies."""
        for part in self.parts:
            await part.stop()
