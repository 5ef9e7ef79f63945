"""Route neutral events to handlers through one explicit route table."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

from bot.context import Context
from bot.events import Incoming, Kind, Outgoing, text
from bot.i18n import normalize_language
from bot.roles import EVERYONE, GUEST

log = logging.getLogger(__name__)

Handler = Callable[[Incoming, Context], Awaitable[list[Outgoing]]]
MAX_TEXT = 4000          # longer free text is cut before matching; nothing else needs more


@dataclass(frozen=True)
class Command:
    """A /command: who may use it and how /help describes it."""

    name: str
    handler: Handler
    roles: frozenset[str] = EVERYONE
    help_key: str | None = None          # UI string describing it; None keeps it out of /help
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ButtonRoute:
    """Buttons whose data starts with prefix go to handler."""

    prefix: str
    handler: Handler
    roles: frozenset[str] = EVERYONE


@dataclass(frozen=True)
class TextRoute:
    """Typed text matching pattern (e.g. an office command '受理 R-2026-000001') goes to handler.

    Checked before offered choices, conversations and the free-text fallback, so it works in any chat
    and mid-conversation; people outside roles get a refusal.
    """

    pattern: re.Pattern
    handler: Handler
    roles: frozenset[str] = EVERYONE


@dataclass
class RouteTable:
    """Everything the bot answers to, in one place."""

    commands: list[Command]
    buttons: list[ButtonRoute]
    conversations: dict[str, Handler]
    free_text: Handler
    media: Handler
    join: Handler
    leave: Handler
    text_routes: list[TextRoute] = field(default_factory=list)
    # Commands that show or collect personal data: in groups other than the security group they only
    # point to the private chat.
    private_only: frozenset[str] = frozenset()
    private_pointer: Handler | None = None
    # Called with (msg, ctx, what was tried) when a role is refused an office or class-leader function.
    on_refused: Callable[[Incoming, Context, str], Awaitable[None]] | None = None
    _by_name: dict[str, Command] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for command in self.commands:
            for name in (command.name, *command.aliases):
                if name in self._by_name:
                    raise ValueError(f"command /{name} is routed twice")
                self._by_name[name] = command
        prefixes = [b.prefix for b in self.buttons]
        if len(prefixes) != len(set(prefixes)):
            raise ValueError("a button prefix is routed twice")
        # Longest prefix first, so "quiz:ans:" wins over "quiz:".
        self.buttons.sort(key=lambda b: len(b.prefix), reverse=True)

    def command(self, name: str) -> Command | None:
        """The command called name (or one of its aliases)."""
        return self._by_name.get(name)

    def button(self, data: str) -> ButtonRoute | None:
        """The route for a button's data."""
        return next((b for b in self.buttons if data.startswith(b.prefix)), None)

    def text_route(self, body: str) -> TextRoute | None:
        """The text-pattern route whose pattern matches the start of body."""
        return next((r for r in self.text_routes if r.pattern.match(body)), None)

    def visible_commands(self, role: str) -> list[Command]:
        """The commands /help shows to a role."""
        return [c for c in self.commands if c.help_key and role in c.roles]


_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_LETTER = re.compile(r"^(?:选项?|答案|选择|option|answer|choose)?\s*([A-Za-z])\s*[.。、:：)）]?$", re.IGNORECASE)
_NUMBER = re.compile(r"^(?:选项?|第|option|no\.?)?\s*(\d{1,2})\s*(?:个|项)?[.。、)）]?$", re.IGNORECASE)


def parse_command(body: str) -> tuple[str, str] | None:
    """Split '/cmd@bot args' into ('cmd', 'args'); None if it is not a command."""
    match = _COMMAND.match(body.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def match_choice(body: str, choices: list[tuple[str, str]]) -> str | None:
    """Map '2', 'B', '选B' or an option's words to that option's data, or None."""
    body = body.strip()
    if not body or not choices:
        return None
    if m := _NUMBER.match(body):
        index = int(m.group(1)) - 1
        return choices[index][1] if 0 <= index < len(choices) else None
    if m := _LETTER.match(body):
        index = ord(m.group(1).upper()) - ord("A")
        return choices[index][1] if 0 <= index < len(choices) else None
    wanted = utils.default_process(body)
    if not wanted:
        return None
    scored = []
    for label, data in choices:
        label_clean = utils.default_process(_strip_marker(label))
        if not label_clean:
            continue
        score = fuzz.ratio(wanted, label_clean)
        if len(wanted) >= 2 and len(wanted) <= len(label_clean):
            score = max(score, fuzz.partial_ratio(wanted, label_clean) - 5)
        scored.append((score, data))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < 80:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 8:
        return None
    return scored[0][1]


def _strip_marker(label: str) -> str:
    """Drop a leading 'A. ' or '1) ' that some labels carry."""
    return re.sub(r"^\s*(?:[A-Da-d]|\d{1,2})\s*[.、)）]\s*", "", label)


class Dispatcher:
    """Turns one Incoming into the replies, keeping conversation state in the database."""

    def __init__(self, services, routes: RouteTable) -> None:
        self.services = services
        self.routes = routes

    async def handle(self, msg: Incoming) -> list[Outgoing]:
        """Answer one event; never raises for bad input."""
        store = self.services.store
        account = await store.accounts.touch(msg.platform, msg.user_key, msg.chat_key)
        person = await store.people.get(account.person_id) if account.person_id else None
        default = self.services.config.general.default_language
        lang = account.language or normalize_language(msg.language_hint, default)
        state = await store.conversations.get(account.id)
        place = (state.name, state.step) if state else None
        ctx = Context(self.services, account, person, lang, state)
        try:
            replies = await self._route(msg, ctx)
        except Exception:
            log.exception("handler failed for %s", msg.session_id())
            return [text(ctx.t("error.internal"))]
        await ctx.save_state()
        stayed = place is not None and ctx.state is not None and (ctx.state.name, ctx.state.step) == place
        await self._remember_choices(ctx, replies, keep_on_screen=stayed)
        return replies

    async def _route(self, msg: Incoming, ctx: Context) -> list[Outgoing]:
        if msg.kind == Kind.JOIN:
            return await self.routes.join(msg, ctx)
        if msg.kind == Kind.LEAVE:
            return await self.routes.leave(msg, ctx)
        if msg.kind == Kind.TEXT:
            body = msg.payload.strip()[:MAX_TEXT]
            parsed = parse_command(body) if body.startswith("/") else None
            if parsed:
                msg.kind, msg.command, msg.payload = Kind.COMMAND, parsed[0], parsed[1]
            else:
                msg.payload = body
                pattern_route = self.routes.text_route(body)
                if pattern_route is not None:
                    if ctx.role not in pattern_route.roles:
                        return await self._refuse(msg, ctx, pattern_route.roles, body[:40])
                    return await pattern_route.handler(msg, ctx)
                choice = match_choice(body, await ctx.store.choices.get(ctx.account.id))
                if choice is not None:
                    msg.kind, msg.payload = Kind.BUTTON, choice
        if msg.kind == Kind.BUTTON and (command := parse_command(msg.payload)):
            msg.kind, msg.command, msg.payload = Kind.COMMAND, command[0], command[1]  # e.g. a "/report" button
        if msg.kind == Kind.COMMAND:
            return await self._command(msg, ctx)
        if msg.kind in (Kind.BUTTON, Kind.POLL_ANSWER):
            return await self._button(msg, ctx)
        if msg.kind == Kind.MEDIA:
            if ctx.state and ctx.state.name in self.routes.conversations:
                return await self.routes.conversations[ctx.state.name](msg, ctx)
            return await self.routes.media(msg, ctx)
        if not msg.payload:
            return [text(ctx.t("error.empty"))]
        if ctx.state and ctx.state.name in self.routes.conversations:
            return await self.routes.conversations[ctx.state.name](msg, ctx)
        return await self.routes.free_text(msg, ctx)

    async def _command(self, msg: Incoming, ctx: Context) -> list[Outgoing]:
        command = self.routes.command(msg.command or "")
        if command is None:
            return [text(ctx.t("error.unknown_command", command=(msg.command or "")[:32]))]
        if msg.is_group and not msg.security_group and command.name in self.routes.private_only \
                and self.routes.private_pointer is not None:
            return await self.routes.private_pointer(msg, ctx)
        if ctx.role not in command.roles:
            return await self._refuse(msg, ctx, command.roles, f"/{command.name}")
        return await command.handler(msg, ctx)

    async def _button(self, msg: Incoming, ctx: Context) -> list[Outgoing]:
        route = self.routes.button(msg.payload)
        if route is None:
            return [text(ctx.t("error.stale_button"))]
        if ctx.role not in route.roles:
            return await self._refuse(msg, ctx, route.roles, msg.payload[:40])
        return await route.handler(msg, ctx)

    async def _refuse(self, msg: Incoming, ctx: Context, roles: frozenset[str], tried: str) -> list[Outgoing]:
        """The refusal; an attempt at a function students never have is also reported to the hook."""
        if "student" not in roles and self.routes.on_refused is not None:
            await self.routes.on_refused(msg, ctx, tried)
        return [self._refusal(ctx)]

    def _refusal(self, ctx: Context) -> Outgoing:
        key = "error.bind_first" if ctx.role == GUEST else "error.not_allowed"
        refusal = text(ctx.t(key))
        refusal.alert = True
        return refusal

    async def _remember_choices(self, ctx: Context, replies: list[Outgoing], keep_on_screen: bool = False) -> None:
        """Keep the last options shown so '2', 'B' or the words answer them on any platform.

        keep_on_screen: the conversation is still at the step it was, so when these replies offer no
        options (a "please answer the question" nudge) the options already shown are still the ones to answer.
        """
        choices: list[tuple[str, str]] = []
        for reply in replies:
            if reply.quiz is not None and reply.quiz.answer_prefix:
                choices = [(o, f"{reply.quiz.answer_prefix}{i}") for i, o in enumerate(reply.quiz.options)]
            elif reply.buttons:
                choices = [(b.label, b.data) for b in reply.flat_buttons()]
        if not choices and keep_on_screen:
            return
        # Most answers offer no options to an account that had none: a read on the reader connection
        # is much cheaper than a write transaction, which every update would otherwise queue for.
        if choices == await ctx.store.choices.get(ctx.account.id):
            return
        await ctx.store.choices.set(ctx.account.id, choices)
