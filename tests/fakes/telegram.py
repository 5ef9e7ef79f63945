"""A fake Telegram Bot API server on 127.0.0.1 that the real python-telegram-bot talks to over HTTP.

It feeds scripted updates through getUpdates (long-poll aware), answers the send/edit methods the
bot uses, records every call, can enforce Telegram's rate limits (429 with retry_after) and can
inject 5xx errors, timeouts and "bot was blocked by the user". Tests and bench/ share it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "wuzha_test_bot"
SEND_METHODS = {"sendMessage", "sendPoll", "sendPhoto", "sendDocument"}
MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_BYTES = 4096, 1024, 64     # Telegram's limits, as it enforces them
MAX_BUTTONS, MAX_ROW = 100, 8
BUTTON_ACTIONS = ("callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
                  "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "copy_text")
CHAT_METHODS = SEND_METHODS | {"editMessageText", "editMessageReplyMarkup"}
# Parameters PTB sends as JSON text inside a form.
JSON_FIELDS = {"reply_markup", "options", "commands", "scope", "correct_option_ids", "allowed_updates",
               "reply_parameters", "link_preview_options", "entities", "caption_entities"}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Injection:
    """A scripted failure for the next calls of a method."""

    status: int = 500
    delay_s: float = 0.0
    times: int = 1
    description: str = "Internal Server Error"
    retry_after: int | None = None


class TokenBucket:
    """A rate: `rate` per second with a burst of `burst` (Telegram tolerates short bursts)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, now

    def take(self, now: float, slack: float = 0.05) -> float:
        """Take one token; return 0 if allowed, else the seconds until one is free."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1 - slack:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    """The limits the server enforces when asked to."""

    overall_per_s: float = 30.0
    paid_per_s: float = 1000.0
    private_per_s: float = 1.0
    group_per_minute: float = 20.0


@dataclass
class FakeBotApi:
    """The server: start() it, point PTB's base_url at base_url, feed updates, read calls."""

    token: str = "123456:TEST-TOKEN"
    enforce_limits: bool = False
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self.served_at: dict[int, float] = {}
        self.answered_at: dict[int, float] = {}
        self.files: dict[str, bytes] = {}
        self.messages: dict[int, dict[int, dict]] = defaultdict(dict)   # chat -> message id -> message
        self.polls: dict[str, dict] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}         # (scope json, language) -> commands
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self.threads: dict[int, set[int]] = defaultdict(set)       # forum topics seen in each chat
        self.bot_admin_in: set[int] = set()                         # groups where the bot is an administrator
        self.privacy_mode = True                                    # getMe's can_read_all_group_messages = False
        self.faults = None            # a tests.fakes.faults.Faults, when a test scripts an outage
        self.too_many = 0
        self._injections: dict[str, deque[Injection]] = defaultdict(deque)
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._poll_ids = itertools.count(1)
        self._confirmed = 0
        self._new_update = asyncio.Event()
        self._closing = asyncio.Event()
        self._pending_by_chat: dict[int, deque[int]] = defaultdict(deque)
        self._callback_update: dict[str, int] = {}
        self._update_chat: dict[int, int] = {}
        self._buckets: dict[Any, TokenBucket] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life cycle ----------------------------------------------------------------
    async def start(self) -> FakeBotApi:
        """Listen on a random port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_get("/_fake/state", self._state)
        app.router.add_post("/_fake/feed", self._feed)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Wake long polls and shut down."""
        self._closing.set()
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What PTB's base_url should be."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """What PTB's base_file_url should be."""
        return f"{self.root}/file/bot"

    # --- scripting -----------------------------------------------------------------
    def inject(self, method: str, status: int = 500, times: int = 1, delay_s: float = 0.0,
               description: str = "Internal Server Error", retry_after: int | None = None) -> None:
        """Make the next `times` calls of method fail with status (after delay_s; 0 status = only delay)."""
        self._injections[method].append(Injection(status, delay_s, times, description, retry_after))

    def push(self, kind: str, body: dict) -> int:
        """Queue one update of a kind (message, callback_query, poll_answer, ...); return its id."""
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: body})
        chat = _chat_of(kind, body)
        if chat is not None:
            self._pending_by_chat[chat].append(update_id)
            self._update_chat[update_id] = chat
        if kind == "callback_query":
            self._callback_update[body["id"]] = update_id
        self._new_update.set()
        return update_id

    def message(self, user_id: int, text: str = "", chat_id: int | None = None, language_code: str = "zh",
                **extra) -> int:
        """A message from a user (in their private chat unless chat_id is a group)."""
        body = {"message_id": self._next_message_id(chat_id or user_id), "date": int(time.time()),
                "chat": _chat(chat_id or user_id), "from": _user(user_id, language_code), **extra}
        if extra.get("message_thread_id"):                     # a message in a forum topic
            self.threads[chat_id or user_id].add(int(extra["message_thread_id"]))
            body.setdefault("is_topic_message", True)
            body["chat"]["is_forum"] = True
        if text:
            body["text"] = text
            if text.startswith("/"):
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push("message", body)

    def add_file(self, data: bytes, path_hint: str = "photos/file.jpg") -> dict:
        """Register a file for getFile and download; return its file_id and unique id."""
        number = next(self._file_ids)
        file_id = f"FILE{number}"
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"U{number}", "file_size": len(data),
                "_path": path_hint.replace("file", f"file_{number}")}

    def photo(self, user_id: int, data: bytes, caption: str = "", language_code: str = "zh") -> int:
        """A photo message (one size)."""
        info = self.add_file(data, "photos/file.jpg")
        size = {"file_id": info["file_id"], "file_unique_id": info["file_unique_id"], "file_size": len(data),
                "width": 800, "height": 600}
        extra = {"photo": [size]}
        if caption:
            extra["caption"] = caption
        return self.message(user_id, language_code=language_code, **extra)

    def document(self, user_id: int, data: bytes, filename: str, mime_type: str = "application/pdf",
                 caption: str = "") -> int:
        """A document message."""
        info = self.add_file(data, f"documents/file_{filename}")
        extra = {"document": {"file_id": info["file_id"], "file_unique_id": info["file_unique_id"],
                              "file_size": len(data), "file_name": filename, "mime_type": mime_type}}
        if caption:
            extra["caption"] = caption
        return self.message(user_id, **extra)

    def press(self, user_id: int, data: str, message_id: int, chat_id: int | None = None,
              language_code: str = "zh") -> int:
        """A press on an inline button of a message the bot sent."""
        chat = chat_id or user_id
        message = self.messages[chat].get(message_id) or {"message_id": message_id, "date": int(time.time()),
                                                           "chat": _chat(chat)}
        body = {"id": f"cb{next(self._callback_ids)}", "from": _user(user_id, language_code),
                "chat_instance": str(chat), "data": data, "message": message}
        return self.push("callback_query", body)

    def poll_answer(self, user_id: int, poll_id: str, option_ids: list[int]) -> int:
        """A user's answer to a non-anonymous poll."""
        body = {"poll_id": poll_id, "user": _user(user_id), "option_ids": option_ids,
                "option_persistent_ids": [f"{poll_id}o{i}" for i in option_ids]}
        return self.push("poll_answer", body)

    def blocked_by(self, user_id: int) -> int:
        """The user blocked the bot: a my_chat_member update, and 403 from now on."""
        self.blocked.add(user_id)
        body = {"chat": _chat(user_id), "from": _user(user_id), "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": _bot()},
                "new_chat_member": {"status": "kicked", "user": _bot(), "until_date": 0}}
        return self.push("my_chat_member", body)

    def migrate(self, old_chat_id: int, new_chat_id: int, by_user: int = 1) -> int:
        """A group became a supergroup: the service message in the old group."""
        return self.message(by_user, chat_id=old_chat_id, migrate_to_chat_id=new_chat_id)

    # --- reading what happened -----------------------------------------------------
    def calls_of(self, method: str, ok_only: bool = True) -> list[Call]:
        """The calls of one method (successful ones unless told)."""
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def sent_to(self, chat_id: int) -> list[dict]:
        """The bot's messages in a chat, as they are now (after edits), oldest first."""
        return [m for _, m in sorted(self.messages[chat_id].items()) if m.get("from", {}).get("id") == BOT_ID]

    def texts_to(self, chat_id: int) -> list[str]:
        """The text (or poll question, or caption) of each bot message in a chat."""
        return [m.get("text") or m.get("caption") or m.get("poll", {}).get("question", "")
                for m in self.sent_to(chat_id)]

    def all_served(self) -> bool:
        """Whether the bot has fetched every queued update."""
        return not self.updates or self._confirmed >= self.updates[-1]["update_id"] or \
            len(self.served_at) == len(self.updates)

    def latencies(self) -> list[float]:
        """Seconds from an update being served to the first answer in its chat (answered updates)."""
        return [self.answered_at[u] - self.served_at[u] for u in self.answered_at if u in self.served_at]

    async def wait_for(self, predicate, within: float = 5.0, interval: float = 0.01) -> None:
        """Wait until predicate() is true; fail with AssertionError after `within` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the fake Bot API condition")
            await asyncio.sleep(interval)

    # --- HTTP ----------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.status = 401
            return _error(401, "Unauthorized")
        if self.faults is not None:
            faulted = await self.faults.apply(method, _int(params.get("chat_id")), call)
            if faulted is not None:
                call.status = faulted.status
                self.too_many += faulted.status == 429
                return faulted
        injected = self._take_injection(method)
        if injected is not None:
            if injected.delay_s:
                await asyncio.sleep(injected.delay_s)
            if injected.status:
                call.status = injected.status
                if injected.status == 429:
                    self.too_many += 1
                parameters = {"retry_after": injected.retry_after} if injected.retry_after else None
                return _error(injected.status, injected.description, parameters)
        chat_id = _int(params.get("chat_id"))
        if method in SEND_METHODS and chat_id in self.blocked:
            call.status = 403
            return _error(403, "Forbidden: bot was blocked by the user")
        if method in SEND_METHODS and self.enforce_limits:
            wait = self._rate_wait(chat_id, bool(params.get("allow_paid_broadcast")))
            if wait:
                call.status = 429
                self.too_many += 1
                retry_after = max(1, math.ceil(wait))
                return _error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        invalid = self._invalid(method, params, chat_id)
        if invalid is not None:
            call.status = invalid.status
            return invalid
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        result = handler(params) if method != "getUpdates" else await handler(params)
        if isinstance(result, web.Response):
            call.status = result.status
            return result
        if method in CHAT_METHODS and chat_id is not None:
            self._mark_answered(chat_id, call.at)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_id, data in self.files.items():
            if self._file_path(file_id) == path:
                self.calls.append(Call("download", {"path": path}, time.monotonic()))
                return web.Response(body=data)
        return web.Response(status=404)

    async def _state(self, request: web.Request) -> web.Response:
        """What happened so far, for a bench driving the server in another process."""
        calls = [[c.method, _int(c.params.get("chat_id")), c.status, c.at] for c in self.calls
                 if c.method != "getUpdates"]
        return web.json_response({"calls": calls, "too_many": self.too_many, "updates": len(self.updates),
                                  "served_at": self.served_at, "answered_at": self.answered_at})

    async def _feed(self, request: web.Request) -> web.Response:
        """Queue updates: a JSON list of {"op": "message"|"press"|..., **arguments of that helper}."""
        ids = []
        for item in await request.json():
            item = dict(item)
            ids.append(getattr(self, item.pop("op"))(**item))
        return web.json_response(ids)

    def _take_injection(self, method: str) -> Injection | None:
        queue = self._injections.get(method)
        if not queue:
            return None
        injection = queue[0]
        injection.times -= 1
        if injection.times <= 0:
            queue.popleft()
        return injection

    def _invalid(self, method: str, params: dict, chat_id: int | None) -> web.Response | None:
        """Telegram's 400 for parameters it would refuse (lengths, keyboards, threads), or None."""
        if method not in CHAT_METHODS:
            return None
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > MAX_CAPTION:
            return _error(400, "Bad Request: message caption is too long")
        problem = _keyboard_problem(params.get("reply_markup"))
        if problem:
            return _error(400, f"Bad Request: {problem}")
        thread = params.get("message_thread_id")
        if thread is not None and _int(thread) not in self.threads.get(chat_id, set()):
            return _error(400, "Bad Request: message thread not found")
        return None

    def _rate_wait(self, chat_id: int | None, paid: bool) -> float:
        now = time.monotonic()
        overall = self.limits.paid_per_s if paid else self.limits.overall_per_s
        key = ("overall", paid)
        bucket = self._buckets.setdefault(key, TokenBucket(overall, max(1.0, overall), now))
        chat_bucket = None
        if chat_id is not None and chat_id < 0:
            rate = self.limits.group_per_minute / 60
            chat_bucket = self._buckets.setdefault(chat_id, TokenBucket(rate, self.limits.group_per_minute, now))
        elif chat_id is not None and not paid:
            chat_bucket = self._buckets.setdefault(chat_id, TokenBucket(self.limits.private_per_s, 1.0, now))
        if chat_bucket is not None:
            wait = chat_bucket.take(now, slack=0.15)
            if wait:
                return wait
        return bucket.take(now)

    def _mark_answered(self, chat_id: int, at: float) -> None:
        pending = self._pending_by_chat.get(chat_id)
        while pending:
            update_id = pending[0]
            if update_id not in self.served_at:
                return
            pending.popleft()
            if update_id not in self.answered_at:
                self.answered_at[update_id] = at
                return

    # --- methods -------------------------------------------------------------------
    async def _m_getUpdates(self, params: dict) -> list[dict]:
        offset = _int(params.get("offset")) or 0
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._confirmed = max(self._confirmed, offset - 1)
        deadline = time.monotonic() + timeout
        while True:
            ready = self._ready(offset, limit)
            if ready or self._closing.is_set() or time.monotonic() >= deadline:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                pass
        now = time.monotonic()
        for update in ready:
            self.served_at.setdefault(update["update_id"], now)
        return ready

    def _ready(self, offset: int, limit: int) -> list[dict]:
        first = max(offset, self._confirmed + 1)
        # update ids are 1..n in order, so the list index is id - 1
        return self.updates[first - 1:first - 1 + limit] if first >= 1 else []

    def _m_getMe(self, params: dict) -> dict:
        return {**_bot(), "can_join_groups": True, "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False}

    def _m_getChatMember(self, params: dict) -> dict | web.Response:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None or chat_id > 0:
            return _error(400, "Bad Request: chat not found")
        status = "administrator" if chat_id in self.bot_admin_in else "member"
        member: dict[str, Any] = {"status": status, "user": _bot()}
        if status == "administrator":
            member.update(can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
                          can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
                          can_change_info=True, can_invite_users=True, can_post_stories=False,
                          can_edit_stories=False, can_delete_stories=False)
        return member

    def _m_deleteWebhook(self, params: dict) -> bool:
        self.webhook = {}
        return True

    def _m_setWebhook(self, params: dict) -> bool:
        self.webhook = dict(params)
        return True

    def _m_getWebhookInfo(self, params: dict) -> dict:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    def _m_setMyCommands(self, params: dict) -> bool:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, params.get("language_code") or "")] = params["commands"]
        return True

    def _m_deleteMyCommands(self, params: dict) -> bool:
        return True

    def _m_close(self, params: dict) -> bool:
        return True

    def _m_sendMessage(self, params: dict) -> dict | web.Response:
        text = params.get("text") or ""
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        return self._store(params, text=text)

    def _m_sendPhoto(self, params: dict) -> dict:
        data = params.get("photo")
        size = len(data) if isinstance(data, bytes) else 0
        return self._store(params, photo=[{"file_id": f"SENT{size}", "file_unique_id": "s", "width": 1,
                                           "height": 1, "file_size": size}], caption=params.get("caption"),
                           _bytes=data)

    def _m_sendDocument(self, params: dict) -> dict:
        data = params.get("document")
        return self._store(params, document={"file_id": "SENTDOC", "file_unique_id": "d",
                                             "file_name": params.get("_filename", "file")},
                           caption=params.get("caption"), _bytes=data)

    def _m_sendPoll(self, params: dict) -> dict | web.Response:
        options = params.get("options") or []
        texts = [o["text"] if isinstance(o, dict) else str(o) for o in options]
        question = params.get("question") or ""
        if not 2 <= len(texts) <= 12 or not 1 <= len(question) <= 300 or any(len(t) > 100 for t in texts):
            return _error(400, "Bad Request: poll can't be sent")
        if len(params.get("explanation") or "") > 200:
            return _error(400, "Bad Request: explanation is too long")
        poll_id = f"P{next(self._poll_ids)}"
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [int(params["correct_option_id"])]
        poll = {"id": poll_id, "question": question,
                "options": [{"text": t, "voter_count": 0, "persistent_id": f"{poll_id}o{i}"}
                            for i, t in enumerate(texts)], "total_voter_count": 0,
                "is_closed": False, "is_anonymous": _bool(params.get("is_anonymous"), True),
                "type": params.get("type") or "regular", "allows_multiple_answers": False,
                "allows_revoting": False, "members_only": False}
        if correct is not None:
            poll["correct_option_ids"] = correct
        if params.get("explanation"):
            poll["explanation"] = params["explanation"]
        if params.get("open_period"):
            poll["open_period"] = int(params["open_period"])
        message = self._store(params, poll=poll)
        self.polls[poll_id] = {"chat_id": _int(params["chat_id"]), "message_id": message["message_id"],
                               "params": params}
        return message

    def _m_editMessageText(self, params: dict) -> dict | web.Response:
        message = self._existing(params)
        if isinstance(message, web.Response):
            return message
        markup = params.get("reply_markup")
        if message.get("text") == params.get("text") and message.get("reply_markup") == markup:
            return _error(400, "Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
        message["text"] = params.get("text")
        message["edit_date"] = int(time.time())
        _set_markup(message, markup)
        return message

    def _m_editMessageReplyMarkup(self, params: dict) -> dict | web.Response:
        message = self._existing(params)
        if isinstance(message, web.Response):
            return message
        markup = params.get("reply_markup")
        if message.get("reply_markup") == markup or (not message.get("reply_markup") and not markup):
            return _error(400, "Bad Request: message is not modified")
        _set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return message

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        update_id = self._callback_update.get(params.get("callback_query_id", ""))
        if update_id is not None and update_id not in self.answered_at:
            self.answered_at[update_id] = time.monotonic()
            pending = self._pending_by_chat.get(self._update_chat.get(update_id, 0))
            if pending and update_id in pending:
                pending.remove(update_id)
        return True

    def _m_getFile(self, params: dict) -> dict | web.Response:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(self.files[file_id]),
                "file_path": self._file_path(file_id)}

    def _file_path(self, file_id: str) -> str:
        return f"files/{file_id}.bin"

    # --- helpers -------------------------------------------------------------------
    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids[chat_id])

    def _store(self, params: dict, **content) -> dict:
        chat_id = _int(params["chat_id"])
        message_id = self._next_message_id(chat_id)
        message = {"message_id": message_id, "date": int(time.time()), "chat": _chat(chat_id), "from": _bot()}
        if params.get("message_thread_id") is not None:
            message.update(message_thread_id=_int(params["message_thread_id"]), is_topic_message=True)
        for key, value in content.items():
            if value is not None and not key.startswith("_"):
                message[key] = value
        _set_markup(message, params.get("reply_markup"))
        self.messages[chat_id][message_id] = message
        return message

    def _existing(self, params: dict) -> dict | web.Response:
        chat_id = _int(params.get("chat_id"))
        message = self.messages.get(chat_id, {}).get(_int(params.get("message_id")))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        return message


def _keyboard_problem(markup) -> str:
    """What Telegram says about an inline keyboard it would refuse ('' when it is fine)."""
    if not markup:
        return ""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if rows is None:
        return ""            # a reply keyboard or a removal: not used by the bot, not checked
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays"
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_BUTTONS or any(len(row) > MAX_ROW for row in rows):
        return "reply markup is too long"
    for button in buttons:
        if not isinstance(button, dict) or not str(button.get("text") or "").strip():
            return "can't parse inline keyboard button: Text must be non-empty"
        if not any(key in button for key in BUTTON_ACTIONS):
            return "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_BYTES:
            return "BUTTON_DATA_INVALID"
    return ""


def _set_markup(message: dict, markup) -> None:
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _chat_of(kind: str, body: dict) -> int | None:
    if kind == "message":
        return body["chat"]["id"]
    if kind == "callback_query":
        return body["message"]["chat"]["id"]
    if kind == "poll_answer":
        return body["user"]["id"]
    return None


def _bot() -> dict:
    return {"id": BOT_ID, "is_bot": True, "first_name": "wuzha", "username": BOT_USERNAME}


def _user(user_id: int, language_code: str = "zh") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", "language_code": language_code}


def _chat(chat_id: int) -> dict:
    if chat_id < 0:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "security office"}
    return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}


def _error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _int(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


async def _params(request: web.Request) -> dict[str, Any]:
    """Form, multipart or JSON parameters, with JSON-valued fields decoded and uploads as bytes."""
    if request.content_type == "application/json":
        return dict(await request.json())
    params: dict[str, Any] = {}
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            data = await part.read()
            if part.filename:
                params[part.name] = bytes(data)
                params["_filename"] = part.filename
            else:
                params[part.name] = data.decode("utf-8")
    else:
        form = await request.post()
        params = {k: v for k, v in form.items()}
        params.update(request.query)
    for key in list(params):
        value = params[key]
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
        elif isinstance(value, str) and value in ("true", "false"):
            params[key] = value == "true"
    # PTB sends uploaded files as attach://name references inside the field
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"), value)
    return params


def _serve_forever(options: dict, ports) -> None:
    async def main() -> None:
        api = await FakeBotApi(**options).start()
        ports.put(api.port)
        await asyncio.Event().wait()
    asyncio.run(main())


def start_in_process(**options):
    """Run a FakeBotApi in a child process (benches: the server must not share our CPU); return (process, root)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ports = context.Queue()
    process = context.Process(target=_serve_forever, args=(options, ports), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=10)}"
