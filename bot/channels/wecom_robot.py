"""The security office's WeCom group robot: markdown report cards with @-mentions, 20 a minute, queued."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import aiohttp

from bot.channels.base import Channel, Delivery, Limits
from bot.channels.wechat_common import api_root, split_text
from bot.events import Outgoing

log = logging.getLogger(__name__)

PLATFORM = "wecom_robot"
ADDRESS = "robot"
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
PER_MINUTE = 20               # WeCom's cap per robot; the outbox queues the rest
MARKDOWN_BYTES = 4000         # markdown content is capped at 4096 bytes
UPDATE_EVERY_S = 60           # a case's card changes are posted as one short line at most this often
UPDATE_LINES = 4              # changed lines shown on an update
_CASE = re.compile(r"R-[\w-]+")
# Markdown the robot renders: links, emphasis, code, quotes, headings, <font> and <@mentions>. User text is
# shown as text: each of these characters becomes its full-width twin, so nothing in it links or mentions.
_MARKUP = str.maketrans({"[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "*": "＊", "_": "＿",
                         "`": "｀", "#": "＃", "~": "～", "@": "＠", "|": "｜"})


def plain(text: str) -> str:
    """Text that robot markdown shows as written: no links, emphasis, quotes, headings or mentions."""
    return text.translate(_MARKUP)


def case_of(message: Outgoing) -> str | None:
    """The case number a report card is about (from its ref or its buttons)."""
    if message.ref.startswith("card:"):
        return message.ref.split(":", 1)[1]
    for button in message.flat_buttons():
        if button.data.startswith("rep:"):
            return button.data.rsplit(":", 1)[-1]
    found = _CASE.search(message.text)
    return found.group(0) if found else None


def render_markdown(message: Outgoing, actions: str, mentions: list[str]) -> str:
    """A card as robot markdown: bold first line, the rest quoted, the text commands, the mentions."""
    title, _, rest = (message.text or (message.quiz.question if message.quiz else "")).partition("\n")
    lines = [f"**{plain(title.strip())}**"] if title.strip() else []
    lines += [f"> {plain(line)}" if line.strip() else "" for line in rest.splitlines()]
    if actions:
        lines += ["", actions]
    if mentions:
        lines += ["", " ".join(f"<@{m}>" for m in mentions)]
    return "\n".join(lines)


class WecomRobotChannel(Channel):
    """Posts to the group robot webhook; the outbox keeps it under 20 messages a minute."""

    def __init__(self, app, key: str, api_base: str) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=1, batch=50, per_address_per_minute=PER_MINUTE))
        self.app = app
        self.url = api_root(api_base) + "webhook/send"
        self.key = key
        self._session: aiohttp.ClientSession | None = None
        # The robot cannot edit a post: per case, what was posted and when, and the newest version seen.
        self._posted: dict[str, tuple[str, float]] = {}      # case -> (text posted, monotonic time)
        self._latest: dict[str, str] = {}
        self._held: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._version = 0
        self.update_every_s = UPDATE_EVERY_S

    async def duty_mentions(self) -> list[str]:
        """WeCom user ids of the configured duty officers (person numbers, or '#id')."""
        ids = []
        for key in self.app.config.reports.duty_officers:
            person = await self.app.store.people.resolve(str(key))
            if person is not None:
                ids.append(person.id)
        return await self.app.store.wechat.user_keys_of_people("wecom", ids)

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Send one markdown message (a long one in pieces) to the group; a card already posted gets one short
        update line at most once a minute, and only its newest version."""
        lang = self.app.config.general.default_language
        case = case_of(message)
        if case and message.ref.startswith("card:") and case in self._posted:
            return await self._update(case, message)
        actions = self.app.services.translate("wechat.robot_actions", lang, case=case) if case else ""
        mentions = await self.duty_mentions() if (case or message.urgent) else []
        body = render_markdown(message, actions, mentions)
        result = await self._post_pieces(body)
        if result.ok and case and message.ref.startswith("card:"):
            self._posted[case] = (message.text, time.monotonic())
            self._latest[case] = message.text
        return result

    async def _update(self, case: str, message: Outgoing) -> Delivery:
        """One line for what changed on a posted card, at most once a minute per case (the newest version)."""
        posted_text, posted_at = self._posted[case]
        self._latest[case] = message.text        # one delivery at a time, in queue order: this is the newest
        wait = self.update_every_s - (time.monotonic() - posted_at)
        if wait > 0:
            # Held, not lost: when the minute is over the newest version is queued again (and this row is done).
            if case not in self._held:
                self._held[case] = asyncio.get_running_loop().call_later(wait, self._requeue, case)
            return Delivery(ok=True)
        if message.text == posted_text:
            return Delivery(ok=True)
        title = message.text.partition("\n")[0]
        before = set(posted_text.splitlines())
        changed = [line for line in message.text.splitlines()[1:] if line.strip() and line not in before]
        lines = [f"**{plain(title.strip())}**"] + [f"> {plain(line)}" for line in changed[:UPDATE_LINES]]
        if message.urgent:        # an urgent case (re-escalated, or changing while unacknowledged): ping again
            lines += ["", " ".join(f"<@{m}>" for m in await self.duty_mentions())]
        result = await self._post_pieces("\n".join(lines).rstrip())
        if result.ok:
            self._posted[case] = (message.text, time.monotonic())
        return result

    def _requeue(self, case: str) -> None:
        self._held.pop(case, None)
        task = asyncio.create_task(self._push_latest(case))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_latest(self, case: str) -> None:
        latest = self._latest.get(case)
        if latest is None or latest == self._posted[case][0]:
            return
        self._version += 1
        await self.app.outbox.push_to_address(PLATFORM, ADDRESS, "report", Outgoing(text=latest, ref=f"card:{case}"),
                                              dedupe_key=f"robot-update:{case}:{self._version}:{time.time():.0f}")

    async def _post_pieces(self, body: str) -> Delivery:
        """Post a markdown body, cut to the robot's size, in order; the first failure stops it."""
        for piece in split_text(body, MARKDOWN_BYTES):
            result = await self._post({"msgtype": "markdown", "markdown": {"content": piece}})
            if not result.ok:
                return result
        return Delivery(ok=True)

    async def _post(self, payload: dict) -> Delivery:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        async with self._session.post(self.url, params={"key": self.key}, json=payload) as response:
            if response.status != 200:
                return Delivery(ok=False, error=f"HTTP {response.status}")
            answer = await response.json(content_type=None)
        code = int(answer.get("errcode", 0))
        if code == 0:
            return Delivery(ok=True)
        if code == 45009:              # over 20 a minute after all (another sender on the same robot): wait
            return Delivery(ok=False, retry_after=60, error="45009 robot limit")
        if code in (93000, 93004):     # invalid or removed webhook key: nothing will get through
            return Delivery(ok=False, permanent=True, error=f"{code} robot webhook invalid")
        return Delivery(ok=False, error=f"{code} {answer.get('errmsg', '')}"[:300])

    async def stop(self) -> None:
        """Drop held updates (the app and Telegram keep the case's state) and close the HTTP session."""
        for handle in self._held.values():
            handle.cancel()
        self._held.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None


async def start(app, http):
    """Starter for `wuzha serve`: the robot channel when it is a security-channel target with a key."""
    if "wecom_robot" not in app.config.security_channel.targets:
        return None
    key = app.config.secrets.get("WUZHA_WECOM_ROBOT_KEY")
    if not key:
        log.error("security_channel.targets has wecom_robot but WUZHA_WECOM_ROBOT_KEY is not set: "
                  "report cards for the robot stay queued")
        return None
    channel = WecomRobotChannel(app, key, app.config.secrets.get("WUZHA_WECOM_API_BASE", DEFAULT_API_BASE))
    app.add_channel(channel)
    return channel
