"""The Telegram channel: python-telegram-bot 22 as the transport between the Bot API and the dispatcher.

Updates become neutral Incoming events (commands, text, button presses, quiz poll answers, photos and
documents, "blocked the bot"); replies and outbox pushes become Bot API calls rendered the way
Telegram users expect (inline keyboards edited after a press, native quiz polls, cards edited in place).
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

from aiohttp import web

# Opt in to PTB's timedelta time periods now: the int form is deprecated and warns on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Poll,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, Defaults, TypeHandler

from bot import inbox
from bot.channels.base import Channel, Delivery, Limits
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_inbox import InboxQueue, StorageFailing, event_key
from bot.channels.telegram_inbox import recover as recover_updates
from bot.channels.telegram_menus import CommandMenus
from bot.choices import remember_delivered
from bot.events import Button, Incoming, Kind, Media, Outgoing, QuizSpec
from bot.i18n import normalize_language
from storage.db import DatabaseError
from storage.telegram import PollRecord

log = logging.getLogger(__name__)

PLATFORM = "telegram"
SECURITY_GROUP_RETRY_S = 600     # a card the security group refused is tried again this often (and at once when re-added)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
MAX_ALERT = 200
LETTERS = "ABCDEFGHIJKL"
TELEGRAM_API = "https://api.telegram.org"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBERED_DROPS = 4096     # keyboards we removed, so a second press does not ask to remove one again
# What a private chat may send that is neither text nor evidence: answered, not ignored.
UNREADABLE = ("sticker", "video_note", "location", "venue", "contact", "audio", "video", "animation", "dice",
              "poll", "game", "story")


def split_text(body: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into parts of at most limit characters, at paragraph, then line, then word ends."""
    parts: list[str] = []
    rest = body
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n\n")
        if cut <= 0:
            cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not parts:
        parts.append(rest)
    return [p for p in parts if p.strip()] or [body[:limit]]


def poll_fits(quiz: QuizSpec) -> bool:
    """Whether Telegram accepts this question as a native quiz poll."""
    return (
        1 <= len(quiz.question) <= Poll.MAX_QUESTION_LENGTH
        and 2 <= len(quiz.options) <= Poll.MAX_OPTION_NUMBER
        and all(1 <= len(o) <= Poll.MAX_OPTION_LENGTH for o in quiz.options)
        and 0 <= quiz.correct_index < len(quiz.options)
    )


def lettered_poll_fits(quiz: QuizSpec) -> bool:
    """Whether the question can go out as a text plus a quiz poll whose options are just letters."""
    return 2 <= len(quiz.options) <= min(Poll.MAX_OPTION_NUMBER, len(LETTERS)) and bool(quiz.question.strip())


def lettered(quiz: QuizSpec) -> QuizSpec:
    """The same quiz with options A, B, C… and the question cut to a poll's length."""
    limit = Poll.MAX_QUESTION_LENGTH
    question = quiz.question if len(quiz.question) <= limit else quiz.question[: limit - 1] + "…"
    return QuizSpec(question, list(LETTERS[: len(quiz.options)]), quiz.correct_index, quiz.explanation,
                    quiz.answer_prefix, quiz.open_seconds)


def quiz_as_text(message: Outgoing) -> Outgoing:
    """The fallback for a quiz Telegram will not take as a poll: lettered options and one button each."""
    quiz = message.quiz
    assert quiz is not None
    lines = [quiz.question, *(f"{LETTERS[i % len(LETTERS)]}. {o}" for i, o in enumerate(quiz.options))]
    rows = [[Button(f"{LETTERS[i % len(LETTERS)]}. {o}"[:60], f"{quiz.answer_prefix}{i}")]
            for i, o in enumerate(quiz.options)]
    return Outgoing(text="\n".join(lines), buttons=rows + message.buttons, urgent=message.urgent, ref=message.ref)


def short_explanation(text: str) -> str | None:
    """A quiz explanation Telegram accepts: one line, at most 200 characters."""
    flat = " ".join(text.split())
    if not flat:
        return None
    limit = Poll.MAX_EXPLANATION_LENGTH
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def api_root(value: str) -> str:
    """Normalise a configured Bot API address to its root (no trailing /bot)."""
    root = (value or TELEGRAM_API).rstrip("/")
    return root.removesuffix("/bot")


def chat_address(chat_id: int, thread_id: int | None = None) -> str:
    """An outbox address: the chat id, with '/<topic>' for a forum topic (so a queued answer stays in it)."""
    return f"{chat_id}/{thread_id}" if thread_id is not None else str(chat_id)


def split_address(address: str) -> tuple[int, int | None]:
    """The chat id and forum topic of an outbox address; ValueError when it is not a Telegram one."""
    chat, _, topic = address.partition("/")
    return int(chat), int(topic) if topic else None


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message is in (None outside forum topics)."""
    if message is None or not getattr(message, "is_topic_message", False):
        return None
    return message.message_thread_id


def is_group(chat_id: int) -> bool:
    """Group and supergroup chat ids are negative."""
    return chat_id < 0


@dataclass
class ReplyTarget:
    """Where the answers to one update go, and the press they answer (if any)."""

    chat_id: int
    query_id: str | None = None
    pressed: Message | None = None
    language: str = "zh"
    thread_id: int | None = None     # the forum topic the update came from: answers go back there

    @property
    def address(self) -> str:
        """The outbox address of these answers (the topic included)."""
        return chat_address(self.chat_id, self.thread_id)


class TelegramChannel(Channel):
    """The Telegram adapter: receives updates (polling or webhook), answers them, delivers outbox rows."""

    def __init__(self, app, token: str, base_url: str = "", webhook_url: str = "", webhook_secret: str = "",
                 paid_broadcast: bool = False, poll_timeout: float = 10.0, request_timeout: float = 10.0) -> None:
        limits = Limits(
            per_second=1000.0 if paid_broadcast else 30.0,
            per_address_interval=0.0 if paid_broadcast else 1.0,
            concurrency=48 if paid_broadcast else 16,
            batch=1000 if paid_broadcast else 200,
            lanes=2 if paid_broadcast else 1,   # at 1,000 msg/s the pause between batches alone cost ~6 %
        )
        super().__init__(name=PLATFORM, limits=limits)
        self.app = app
        self.paid_broadcast = paid_broadcast
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.poll_timeout = poll_timeout
        self.username = ""
        self.handled = 0                 # updates fully answered (tests and the bench wait on it)
        self._security_refused = False   # the security group refused a card (the bot is not in it)
        self._dropped: dict[tuple[int, int], None] = {}
        root = api_root(base_url)
        # Each update is on disk before Telegram hears it was received: with long polling the queue holds
        # a poll's updates and writes them in one go just before the next getUpdates confirms them.
        self.update_queue = InboxQueue(app, batched=not webhook_url)
        self.update_queue.notify = self.notify_office_now
        builder = (
            Application.builder().token(token)
            .base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
            .concurrent_updates(256).job_queue(None)
            # Report texts carry the links people were sent: never unfurl a scam site in a chat.
            .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
            .update_queue(self.update_queue)
            # One pool for answers and outbox pushes, a small one for the long poll (see telegram_http).
            .request(AiohttpRequest(pool_size=limits.concurrency + 32, read_timeout=request_timeout,
                                    connect_timeout=request_timeout, pool_timeout=request_timeout,
                                    media_timeout=request_timeout * 3))
            .get_updates_request(AiohttpRequest(pool_size=2, read_timeout=request_timeout,  # PTB adds the poll time
                                                connect_timeout=request_timeout, pool_timeout=request_timeout,
                                                before_request=self.update_queue.flush))
        )
        if webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.menus = CommandMenus(self)

    @classmethod
    def from_config(cls, app, **overrides) -> TelegramChannel:
        """Build the channel from config.toml and the environment's secrets."""
        cfg = app.config.channels.telegram
        secrets = app.config.secrets
        values = dict(
            token=secrets["WUZHA_TELEGRAM_TOKEN"],
            base_url=secrets.get("WUZHA_TELEGRAM_BASE_URL") or cfg.base_url,
            webhook_url=cfg.webhook_url,
            webhook_secret=secrets.get("WUZHA_TELEGRAM_WEBHOOK_SECRET", ""),
            paid_broadcast=cfg.paid_broadcast,
        )
        values.update(overrides)
        return cls(app, **values)

    @property
    def bot(self):
        """The PTB bot (an ExtBot) used for every call."""
        return self.application.bot

    @property
    def repo(self):
        """The Telegram tables."""
        return self.app.store.telegram

    @property
    def security_chat_id(self) -> int:
        """The security group's current chat id (0 when none is configured)."""
        return self.app.config.channels.telegram.security_chat_id

    @property
    def webhook_path(self) -> str:
        """The path of the webhook on our HTTP server."""
        return urlparse(self.webhook_url).path or DEFAULT_WEBHOOK_PATH

    # --- life cycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Connect, set the command menus, and start receiving updates."""
        if self.webhook_url and not self.webhook_secret:
            raise RuntimeError("Telegram webhook mode needs WUZHA_TELEGRAM_WEBHOOK_SECRET in the environment")
        cfg = self.app.config.channels.telegram
        if cfg.security_chat_id:
            cfg.security_chat_id = await self.repo.current_chat_id(cfg.security_chat_id)
        await self.application.initialize()
        self.username = self.bot.username or ""
        if not self.app.config.identity.telegram_bot:
            self.app.config.identity.telegram_bot = self.username   # deep links in invites and group pointers
        await self.check_group_reading()
        await recover_updates(self)      # updates a crash left unanswered, before new ones flow
        try:
            await self.set_commands()
        except Exception:   # a menu is a convenience: never keep the bot from answering
            log.exception("could not set the Telegram command menus")
        try:
            personal = await self.menus.set_personal_all()
        except Exception:
            log.exception("could not set the staff's own Telegram command menus")
        else:
            log.info("telegram: %d staff accounts have their own command menu", personal)
        await self.application.start()
        if self.webhook_url:
            await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret,
                                       allowed_updates=Update.ALL_TYPES)
        else:         # one process polls at a time (Telegram allows one getUpdates): the leader
            await self.app.leadership.on_lead("telegram long polling", self.start_polling, self.stop_polling)
        log.warning("telegram channel started as @%s (%s)", self.username,
                    "webhook " + self.webhook_path if self.webhook_url else
                    "long polling" if self.polling else "long polling on standby: another server polls")

    @property
    def polling(self) -> bool:
        """Whether this process is polling Telegram for updates now."""
        updater = self.application.updater
        return updater is not None and updater.running

    async def start_polling(self) -> None:
        """Start long polling (this process leads): first answer what a dead poller took in but left."""
        if self.polling or not self.application.running:
            return
        await recover_updates(self)
        assert self.application.updater is not None
        await self.application.updater.start_polling(timeout=self.poll_timeout, allowed_updates=Update.ALL_TYPES)
        log.warning("telegram: long polling started in this process")

    async def stop_polling(self) -> None:
        """Stop long polling (this process no longer leads); the updates taken in are still answered."""
        if not self.polling:
            return
        assert self.application.updater is not None
        await self.application.updater.stop()
        try:
            await self.update_queue.flush()
        except RetryAfter:
            log.error("telegram: the last poll's updates could not be stored; Telegram sends them again")
        log.warning("telegram: long polling stopped in this process (another server takes it over)")

    async def check_group_reading(self) -> bool:
        """Whether typed office commands in the security group reach us; one WARNING line when they cannot.

        With privacy mode on (BotFather's default) a bot sees plain group text only as an administrator.
        """
        chat = self.security_chat_id
        if not chat or self.bot.bot.can_read_all_group_messages:
            return True
        try:
            member = await self.bot.get_chat_member(chat, self.bot.id)
        except TelegramError as exc:
            log.warning("telegram: cannot check the bot's place in the security group %s: %s", chat, exc)
            return False
        if member.status in ("administrator", "creator"):
            return True
        log.warning("telegram: the bot cannot read typed commands (受理 R-…) in the security group %s: make it an "
                    "administrator there, or turn privacy mode off (@BotFather, /setprivacy, Disable)", chat)
        return False

    async def stop(self) -> None:
        """Stop receiving, finish the updates in hand, and close the HTTP pool."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        try:
            await self.update_queue.flush()     # the last poll's updates, if no getUpdates came after them
        except RetryAfter:
            log.error("telegram: the last poll's updates could not be stored; Telegram sends them again")
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        await self.bot.shutdown()    # the HTTP pools, even when start() failed before PTB was initialized

    async def set_commands(self) -> None:
        """Set the command menu per language (zh, en, and the default) and per scope."""
        await self.menus.set_shared()

    # --- inbound ---------------------------------------------------------------------
    async def handle_webhook(self, request: web.Request) -> web.Response:
        """Take one update POSTed by Telegram, after checking the secret header."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            log.warning("refused a Telegram webhook request from %s: missing or wrong %s",
                        request.remote, SECRET_HEADER)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError(f"not an update object ({type(data).__name__})")
            update = Update.de_json(data, self.bot)
        except Exception as exc:      # whatever a JSON document that is not an Update makes PTB raise
            log.warning("refused a malformed Telegram webhook body from %s: %s", request.remote,
                        f"{type(exc).__name__}: {exc}"[:200])
            return web.Response(status=400, text="bad update")
        try:
            await self.application.update_queue.put(update)
        except StorageFailing:     # not stored: Telegram retries the update later
            return web.Response(status=503, text="storage unavailable")
        return web.Response(text="ok")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, (*DatabaseError, TelegramError)):   # expected faults: one line, no traceback
            log.error("telegram update failed: %s: %s (handled again once the fault is over)", type(error).__name__,
                      error)
            return
        log.error("telegram update failed: %s", error, exc_info=error)

    async def recover_stale(self) -> inbox.Recovery:
        """Handle updates whose handling died minutes ago while running (the database failed under it)."""
        return await recover_updates(self, stale_only=True)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer one update; updates of one person are handled in order."""
        key = self._person_key(update)
        if key is None:
            try:
                await self._on_chat_event(update)
                await inbox.mark_replied(self.app, event_key(update))
            finally:
                inbox.done_with(self.app, event_key(update))   # left open by a fault: the minute job's
                self.handled += 1
            return
        try:
            # The engine's one per-person order (the pipeline's), keyed as Incoming.session_id() is: the
            # inbox write already happened in InboxQueue, so only the ordering part of Pipeline.take fits here.
            async with self.app.pipeline.ordered(f"{PLATFORM}:{key}", event_key(update)):
                await self._answer(update)
        finally:
            inbox.done_with(self.app, event_key(update))
            self.handled += 1

    @staticmethod
    def _person_key(update: Update) -> str | None:
        user = update.effective_user
        if user is None or user.is_bot:
            return None
        if update.message and update.message.migrate_to_chat_id:
            return None
        return str(user.id)

    async def _on_chat_event(self, update: Update) -> None:
        """Events about a chat rather than from a person: group migration."""
        message = update.message
        if message and message.migrate_to_chat_id:
            await self.migrate_chat(message.chat.id, message.migrate_to_chat_id)

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: move stored ids, pending pushes and the security chat."""
        moved = await self.repo.migrate_chat(old_chat_id, new_chat_id)
        cfg = self.app.config.channels.telegram
        if cfg.security_chat_id == old_chat_id:
            cfg.security_chat_id = new_chat_id
            try:
                await self.set_commands()
            except TelegramError as exc:
                log.warning("could not set the commands of the migrated security chat: %s", exc)
        log.warning("telegram chat %s migrated to %s (%d queued pushes moved)", old_chat_id, new_chat_id, moved)

    async def _answer(self, update: Update) -> None:
        key = event_key(update)          # InboxQueue recorded the update before PTB handed it to us
        converted = await self.to_incoming(update)
        if converted is None:
            if update.callback_query is not None:
                await self._answer_query(update.callback_query.id, None)
            await inbox.mark_replied(self.app, key)
            return
        incoming, target = converted
        replies = await inbox.handle(self.app, key, incoming, reply_to=target.address)
        await self.reply(target, replies, key)
        await inbox.mark_replied(self.app, key)
        if not is_group(target.chat_id):
            await self.menus.refresh(incoming.user_key)    # just bound as a monitor or officer: their own menu

    async def to_incoming(self, update: Update) -> tuple[Incoming, ReplyTarget] | None:
        """Turn an update into a neutral event and where its answers go; None when it needs no answer."""
        user = update.effective_user
        assert user is not None
        user_key = str(user.id)
        language = normalize_language(user.language_code, self.app.config.general.default_language)

        def incoming(kind: Kind, payload: str = "", chat_id: int | None = None, **extra) -> Incoming:
            group = chat_id is not None and is_group(chat_id)
            return Incoming(PLATFORM, user_key, user_key, kind, payload, language_hint=user.language_code,
                            is_group=group, security_group=group and chat_id == self.security_chat_id,
                            raw=update, **extra)

        if update.callback_query is not None:
            query = update.callback_query
            data = query.data or ""
            if data.startswith("~"):
                data = await self.repo.expand_callback(data[1:]) or ""
            pressed = query.message if isinstance(query.message, Message) else None
            chat_id = pressed.chat.id if pressed else user.id
            return incoming(Kind.BUTTON, data, chat_id), ReplyTarget(chat_id, query.id, pressed, language,
                                                                     topic_of(pressed))
        if update.poll_answer is not None:
            answer = update.poll_answer
            poll = await self.repo.poll(answer.poll_id)
            if poll is None and answer.option_ids:   # its record was lost with a crash: the letter, as if typed
                return (incoming(Kind.TEXT, "ABCDEFGHIJ"[answer.option_ids[0] % 10], user.id),
                        ReplyTarget(user.id, language=language))
            if poll is None or not answer.option_ids or not poll.answer_prefix:
                return None
            data = f"{poll.answer_prefix}{answer.option_ids[0]}"
            return incoming(Kind.BUTTON, data, poll.chat_id), ReplyTarget(poll.chat_id, language=language)
        if update.my_chat_member is not None:
            member = update.my_chat_member
            if member.chat.type == "private" and member.new_chat_member.status in ("kicked", "left"):
                return incoming(Kind.LEAVE), ReplyTarget(member.chat.id, language=language)
            if member.chat.id == self.security_chat_id and member.new_chat_member.status in ("member", "administrator"):
                await self._security_group_back()
            if (member.chat.type != "private" and member.new_chat_member.status in ("member", "administrator")
                    and member.old_chat_member.status in ("left", "kicked")):
                # Added to a group: the bot introduces itself there once.
                return incoming(Kind.JOIN, chat_id=member.chat.id), ReplyTarget(member.chat.id, language=language)
            return None
        message = update.message
        if message is None:
            return None
        chat_id = message.chat.id
        target = ReplyTarget(chat_id, language=language, thread_id=topic_of(message))
        if message.photo or message.document:
            if is_group(chat_id) and chat_id != self.security_chat_id:
                return None
            media = await self._download(message, target)
            if media is None:
                return None
            return incoming(Kind.MEDIA, message.caption or "", chat_id, media=media), target
        body = message.text or ""
        if not body.strip():
            if not is_group(chat_id):
                await self._answer_unreadable(message, target)
            return None
        if is_group(chat_id) and not self._group_text_wanted(chat_id, body):
            return None
        quoted = message.reply_to_message
        return incoming(Kind.TEXT, body, chat_id, quoted=str(quoted.message_id) if quoted else None), target

    async def _answer_unreadable(self, message: Message, target: ReplyTarget) -> None:
        """A voice note, sticker, location, ... in a private chat: say what we can read instead of nothing."""
        if message.voice is not None:
            await self._send_notice(target, "telegram.voice_ask_text")
        elif any(getattr(message, kind, None) for kind in UNREADABLE):
            await self._send_notice(target, "telegram.unsupported_message")

    def _group_text_wanted(self, chat_id: int, body: str) -> bool:
        """In groups: commands meant for us; in the security group also the office's text commands."""
        if body.startswith("/"):
            first = body.split()[0]
            return "@" not in first or first.split("@", 1)[1].lower() == self.username.lower()
        return chat_id == self.security_chat_id

    async def _download(self, message: Message, target: ReplyTarget) -> Media | None:
        """Fetch a photo or document through getFile, within the evidence size limit."""
        limit_mb = self.app.config.reports.evidence_max_mb
        if message.photo:
            size = message.photo[-1]
            kind, filename, mime = "photo", f"photo_{size.file_unique_id}.jpg", "image/jpeg"
        else:
            size = message.document
            kind = "document"
            filename = size.file_name or f"document_{size.file_unique_id}"
            mime = size.mime_type or "application/octet-stream"
        if (size.file_size or 0) > limit_mb * 1024 * 1024:
            await self._send_notice(target, "telegram.file_too_big", mb=limit_mb)
            return None
        try:
            file = await size.get_file()
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not download a %s from telegram: %s", kind, exc)
            await self._send_notice(target, "telegram.file_failed")
            return None
        return Media(kind, filename, data, mime)

    async def notify_office_now(self, key: str, values: dict) -> None:
        """Tell the security group directly, past the outbox: for when the database itself is failing."""
        if not self.security_chat_id:
            return
        body = self.app.services.translate(key, self.app.config.general.default_language, **values)
        await self.bot.send_message(self.security_chat_id, body)

    async def _send_notice(self, target: ReplyTarget, key: str, **values) -> None:
        body = self.app.services.translate(key, target.language, **values)
        await self.reply(target, [Outgoing(text=body)])

    # --- outbound ----------------------------------------------------------------------
    async def reply(self, target: ReplyTarget, replies: list[Outgoing], key: str | None = None) -> None:
        """Send a handler's answers: a refusal to a press pops up, the pressed keyboard goes away.

        What cannot be sent now (a 429, an outage) goes to the outbox, in order, keyed by the event.
        """
        alerts = [r for r in replies if r.alert] if target.query_id else []
        rest = [r for r in replies if not (target.query_id and r.alert)]
        if target.query_id:
            alert_text = "\n".join(r.text for r in alerts)
            await self._answer_query(target.query_id, alert_text or None)
            if len(alert_text) > MAX_ALERT:
                rest = alerts + rest
            pressed = target.pressed
            # A card kept up to date in place gets its next buttons from its own edit (through the outbox,
            # which may land first): dropping its keyboard here would leave officers nothing to press.
            if (rest and pressed is not None and pressed.reply_markup is not None
                    and not await self.repo.carries_ref(pressed.chat.id, pressed.message_id)):
                await self._drop_keyboard(pressed.chat.id, pressed.message_id)
        for position, message in enumerate(rest):
            if not await self._send_interactive(target.chat_id, message, target.thread_id):
                await self._queue_replies(target.chat_id, replies, rest[position:], key, target.thread_id)
                return

    async def _answer_query(self, query_id: str, alert_text: str | None) -> None:
        try:
            if alert_text:
                short = alert_text if len(alert_text) <= MAX_ALERT else alert_text[: MAX_ALERT - 1] + "…"
                await self.bot.answer_callback_query(query_id, text=short, show_alert=True)
            else:
                await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:   # too old or already answered: the press itself was handled
            log.info("answerCallbackQuery failed: %s", exc)

    async def _drop_keyboard(self, chat_id: int, message_id: int) -> None:
        if (chat_id, message_id) in self._dropped:     # a second press on it: the keyboard is already gone
            return
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError as exc:
            log.info("could not remove the keyboard of message %s: %s", message_id, exc)
            return
        self._dropped[(chat_id, message_id)] = None
        if len(self._dropped) > REMEMBERED_DROPS:
            del self._dropped[next(iter(self._dropped))]

    async def _send_interactive(self, chat_id: int, message: Outgoing, thread_id: int | None = None) -> bool:
        """Send one answer now; False when it must wait (a 429, an outage) and go through the outbox.

        The outbox's sender and this path share one per-chat wait: after a 429 nothing is called for
        that chat before retry_after has passed, and during an outage answers queue instead of failing.
        """
        sender = self.app.senders.get(PLATFORM)
        if sender is not None and (sender.breaker.is_open or sender.limiter.paused_for(str(chat_id)) > 0):
            return False
        try:
            await self.send(chat_id, message, thread_id=thread_id)
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds()
            log.warning("telegram asked to wait %.0f s before answering chat %s; the answer waits in the outbox",
                        wait, chat_id)
            if sender is not None:
                sender.limiter.pause_address(str(chat_id), wait)
            return False
        except Forbidden as exc:
            log.info("chat %s refused our answer: %s", chat_id, exc)
            await self.app.store.accounts.mark_unreachable_by_key(PLATFORM, str(chat_id), "blocked")
        except BadRequest as exc:       # this answer can never go: saying so is all there is to do
            log.warning("could not answer chat %s: %s", chat_id, exc)
        except NetworkError as exc:     # 5xx, timeouts, no connection: the outbox delivers it later
            log.debug("answer to chat %s failed now: %s", chat_id, exc)
            if sender is not None:
                sender.breaker.failed(f"{type(exc).__name__}: {exc}")
            return False
        except TelegramError as exc:
            log.warning("could not answer chat %s: %s", chat_id, exc)
        else:
            if sender is not None:
                sender.breaker.succeeded()
        return True

    async def _queue_replies(self, chat_id: int, replies: list[Outgoing], unsent: list[Outgoing],
                             key: str | None, thread_id: int | None = None) -> None:
        """Answers that cannot go now wait in the outbox, keyed as inbox recovery keys them (never twice).

        A forum topic's answers keep their topic: it is part of the row's address.
        """
        key = key or f"live:{chat_id}:{uuid.uuid4().hex}"
        for message in unsent:
            index = next(i for i, reply in enumerate(replies) if reply is message)
            await self.app.outbox.push_to_address(PLATFORM, chat_address(chat_id, thread_id), "reply",
                                                  dataclasses.replace(message, urgent=True),
                                                  dedupe_key=f"inbox:{key}:{index}", priority=0)

    async def send(self, chat_id: int, message: Outgoing, paid: bool = False,
                   thread_id: int | None = None) -> list[Message]:
        """Render one Outgoing as Bot API calls (in a forum topic when thread_id); raise the platform's error."""
        if message.ref and message.quiz is None and message.image is None and message.file is None:
            edited = await self._edit_ref(chat_id, message)
            if edited is not None and not message.repost:   # a reminder is a new post too: an edit is silent
                await self._remember_sent(chat_id, message, edited)
                return edited
        extra: dict = {"allow_paid_broadcast": True} if paid else {}
        if thread_id is not None:
            extra["message_thread_id"] = thread_id
        markup = await self._keyboard(message.buttons)
        if message.quiz is not None:
            sent = await self._send_quiz(chat_id, message, markup, extra)
        elif message.image is not None or message.file is not None:
            sent = await self._send_attachment(chat_id, message, markup, extra)
        else:
            sent = []
            parts = split_text(message.text or " ")
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                sent.append(await self.bot.send_message(chat_id, part, reply_markup=markup if last else None,
                                                        **extra))
        if message.ref and sent:
            await self.repo.set_message_ref(chat_id, message.ref, sent[-1].message_id)
        await self._remember_sent(chat_id, message, sent)
        return sent

    async def _remember_sent(self, chat_id: int, message: Outgoing, sent: list[Message]) -> None:
        """In a private chat, a reply quoting the message with the options answers those options."""
        if sent and not is_group(chat_id):
            await remember_delivered(self.app.store, PLATFORM, str(chat_id), message, str(sent[-1].message_id))

    async def _edit_ref(self, chat_id: int, message: Outgoing) -> list[Message] | None:
        """Edit the earlier message with this ref; None when there is none to edit (send anew)."""
        message_id = await self.repo.message_for_ref(chat_id, message.ref)
        if message_id is None:
            return None
        markup = await self._keyboard(message.buttons)
        try:
            edited = await self.bot.edit_message_text(split_text(message.text or " ")[0], chat_id, message_id,
                                                      reply_markup=markup)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return []
            log.info("could not edit message %s in %s (%s): sending anew", message_id, chat_id, exc)
            return None
        return [edited] if isinstance(edited, Message) else []

    async def _send_quiz(self, chat_id: int, message: Outgoing, markup, extra: dict) -> list[Message]:
        """A native quiz poll; long options go in a text above a poll of letters; text buttons as the last resort."""
        quiz = message.quiz
        assert quiz is not None
        sent: list[Message] = []
        poll_quiz = quiz
        if not poll_fits(quiz) and lettered_poll_fits(quiz):
            sent.append(await self.bot.send_message(chat_id, split_text(quiz_as_text(message).text)[0], **extra))
            poll_quiz = lettered(quiz)
        if poll_fits(poll_quiz):
            open_period = None
            if quiz.open_seconds:
                open_period = max(Poll.MIN_OPEN_PERIOD, min(int(quiz.open_seconds), Poll.MAX_OPEN_PERIOD))
            try:
                poll_message = await self.bot.send_poll(
                    chat_id, poll_quiz.question, list(poll_quiz.options), is_anonymous=False, type=Poll.QUIZ,
                    correct_option_ids=[quiz.correct_index], explanation=short_explanation(quiz.explanation),
                    open_period=open_period, reply_markup=markup, **extra,
                )
            except BadRequest as exc:     # polls not allowed in this chat, or refused: the text form below
                log.info("quiz poll refused in chat %s (%s): sending it as text", chat_id, exc)
            else:
                if poll_message.poll is not None:
                    await self.repo.remember_poll(PollRecord(poll_message.poll.id, chat_id, poll_message.message_id,
                                                             quiz.answer_prefix, len(quiz.options)))
                return [*sent, poll_message]
        fallback = quiz_as_text(message)
        fallback_markup = await self._keyboard(fallback.buttons)
        return [await self.bot.send_message(chat_id, split_text(fallback.text)[0], reply_markup=fallback_markup,
                                            **extra)]

    async def _send_attachment(self, chat_id: int, message: Outgoing, markup, extra: dict) -> list[Message]:
        caption = message.text if len(message.text) <= MAX_CAPTION else ""
        sent: list[Message] = []
        attach_markup = markup if caption or not message.text else None
        if message.image is not None:
            photo = InputFile(message.image, filename=message.filename or "image.png")
            sent.append(await self.bot.send_photo(chat_id, photo, caption=caption or None,
                                                  reply_markup=attach_markup, **extra))
        else:
            assert message.file is not None
            document = InputFile(message.file, filename=message.filename or "file.bin")
            sent.append(await self.bot.send_document(chat_id, document, caption=caption or None,
                                                     reply_markup=attach_markup, **extra))
        if message.text and not caption:
            parts = split_text(message.text)
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                sent.append(await self.bot.send_message(chat_id, part, reply_markup=markup if last else None,
                                                        **extra))
        return sent

    async def _keyboard(self, rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
        """Inline keyboard rows; data longer than Telegram's 64 bytes is stored and carried as a key."""
        if not rows:
            return None
        keyboard = []
        for row in rows:
            buttons = []
            for button in row:
                data = button.data
                if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
                    data = "~" + await self.repo.shorten_callback(data)
                buttons.append(InlineKeyboardButton(button.label[:64] or "·", callback_data=data))
            if buttons:
                keyboard.append(buttons)
        return InlineKeyboardMarkup(keyboard) if keyboard else None

    # --- the outbox ------------------------------------------------------------------
    def address_limits(self, address: str) -> tuple[float, int]:
        """Groups: 20 messages a minute; private chats: one a second (none extra on the paid tier)."""
        if address.startswith("-"):
            return 3.0, 20
        return self.limits.per_address_interval, 0

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Send one outbox row; map Telegram's answers to what the outbox should do next."""
        try:
            chat_id, thread_id = split_address(address)
        except ValueError:
            return Delivery(ok=False, permanent=True, error=f"not a telegram chat id: {address!r}")
        if self._security_refused and chat_id == self.security_chat_id:   # keep later cards behind the first, in order
            return Delivery(ok=False, defer_s=SECURITY_GROUP_RETRY_S, error="security group refused earlier")
        for _ in range(2):
            try:
                await self.send(chat_id, message, paid=self.paid_broadcast and not is_group(chat_id),
                                thread_id=thread_id)
                return Delivery(ok=True)
            except ChatMigrated as exc:
                await self.migrate_chat(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except RetryAfter as exc:
                return Delivery(ok=False, retry_after=max(1.0, exc.retry_after.total_seconds()), error=str(exc))
            except Forbidden as exc:
                if chat_id == self.security_chat_id:
                    return await self._security_group_refused(str(exc))
                return Delivery(ok=False, unreachable=True, error=str(exc)[:300])
            except BadRequest as exc:
                if "chat not found" in str(exc).lower():
                    if chat_id == self.security_chat_id:
                        return await self._security_group_refused(str(exc))
                    return Delivery(ok=False, unreachable=True, error=str(exc)[:300])
                return Delivery(ok=False, permanent=True, error=str(exc)[:300])
            except NetworkError as exc:   # timeouts, 5xx, connection trouble: the outbox backs off
                return Delivery(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return Delivery(ok=False, error="chat migrated twice")


    async def _security_group_refused(self, error: str) -> Delivery:
        """The bot is not in the security group (removed, never added): keep its cards, say so once, loudly."""
        if not self._security_refused:
            self._security_refused = True
            others = [(c, a) for c, a in self.app.outbox.security_addresses() if c != PLATFORM]
            log.error("telegram: cannot post in the security group %s (%s); report cards wait until the bot is added"
                      " back%s", self.security_chat_id, error[:200],
                      "" if others else " (no other security_channel target to alert)")
            for channel, address in others:
                notice = Outgoing(text=self.app.services.translate(
                    "telegram.security_group_lost", self.app.config.general.default_language,
                    chat=self.security_chat_id), urgent=True)
                day = self.app.clock.now().date().isoformat()
                await self.app.outbox.push_to_address(channel, address, "security-channel", notice,
                                                      dedupe_key=f"telegram-security-group-lost:{day}", priority=0)
        return Delivery(ok=False, defer_s=SECURITY_GROUP_RETRY_S, error=f"security group refused: {error}"[:300])

    async def _security_group_back(self) -> None:
        """The bot was added back to the security group: every card that waited goes out now."""
        self._security_refused = False
        resumed = await self.app.store.outbox.resume_address(PLATFORM, str(self.security_chat_id))
        log.warning("telegram: the bot is back in the security group; %d waiting messages go out now", resumed)
        self.app.outbox.wakeup(PLATFORM).set()


async def start(app, http: web.Application) -> TelegramChannel | None:
    """`wuzha serve` starter: run the Telegram channel when channels.telegram.enabled."""
    if not app.config.channels.telegram.enabled:
        return None
    from bot.serve import StartupError

    channel = TelegramChannel.from_config(app)
    if channel.webhook_url:
        http.router.add_post(channel.webhook_path, channel.handle_webhook)
    try:
        await channel.start()
    except (TelegramError, RuntimeError) as exc:
        await channel.stop()
        where = api_root(app.config.secrets.get("WUZHA_TELEGRAM_BASE_URL") or app.config.channels.telegram.base_url)
        raise StartupError(f"channels.telegram: could not start with the Bot API at {where}: {exc}") from exc
    except BaseException:
        await channel.stop()
        raise
    app.add_channel(channel)
    return channel
