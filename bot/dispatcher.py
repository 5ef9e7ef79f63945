"""Route neutral events to handlers through one explicit route table."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bot.buttondata import ButtonData
from bot.choices import index_of, match_choice, match_words, offered
from bot.context import Context
from bot.conversation import Conversation, snapshot
from bot.events import Incoming, Kind, Outgoing, text
from bot.i18n import normalize_language
from bot.roles import EVERYONE, GUEST

log = logging.getLogger(__name__)

Handler = Callable[[Incoming, Context], Awaitable[list[Outgoing]]]
MAX_TEXT = 10000         # longer free text is cut before matching; a report story (8,000) fits whole


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
    codec: ButtonData | None = None      # the typed codec of this family's data, checked when the table is built

    @classmethod
    def of(cls, codec: ButtonData, handler: Handler, roles: frozenset[str] = EVERYONE) -> ButtonRoute:
        """The route for a codec's buttons."""
        return cls(codec.prefix, handler, roles, codec)


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
    conversations: list[Conversation]
    free_text: Handler
    media: Handler
    join: Handler
    leave: Handler
    text_routes: list[TextRoute] = field(default_factory=list)
    # Commands that show or collect personal data: in groups other than the security group they only
    # point to the private chat.
    private_only: frozenset[str] = frozenset()
    private_pointer: Handler | None = None
    # Button prefixes that work in any group (a class contest); every other button, and every typed office
    # command, only points to the private chat there.
    group_buttons: frozenset[str] = frozenset()
    # Called with (msg, ctx, what was tried) when a role is refused an office or class-leader function.
    on_refused: Callable[[Incoming, Context, str], Awaitable[None]] | None = None
    _by_name: dict[str, Command] = field(default_factory=dict, repr=False)
    _conversations: dict[str, Conversation] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for conversation in self.conversations:
            if conversation.name in self._conversations:
                raise ValueError(f"conversation {conversation.name} is declared twice")
            self._conversations[conversation.name] = conversation
        for command in self.commands:
            for name in (command.name, *command.aliases):
                if name in self._by_name:
                    raise ValueError(f"command /{name} is routed twice")
                self._by_name[name] = command
        for route in self.buttons:
            if route.codec is not None:
                if route.codec.prefix != route.prefix:
                    raise ValueError(f"route {route.prefix} carries the codec of {route.codec.prefix}")
                route.codec.check()
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

    def conversation(self, name: str | None) -> Conversation | None:
        """The declared conversation called name."""
        return self._conversations.get(name or "")

    def text_route(self, body: str) -> TextRoute | None:
        """The text-pattern route whose pattern matches the start of body."""
        return next((r for r in self.text_routes if r.pattern.match(body)), None)

    def visible_commands(self, role: str) -> list[Command]:
        """The commands /help shows to a role."""
        return [c for c in self.commands if c.help_key and role in c.roles]


_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
def parse_command(body: str) -> tuple[str, str] | None:
    """Split '/cmd@bot args' into ('cmd', 'args'); None if it is not a command."""
    match = _COMMAND.match(body.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


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
        ctx = Context(self.services, account, person, lang, state, routes=self.routes)
        before = snapshot(ctx)
        try:
            replies, inside = await self._route(msg, ctx)
            conversation = self.routes.conversation(before[0]) if before else None
            if conversation is not None and not inside and snapshot(ctx) == before:
                # A side question was answered: show where the conversation stands, untouched.
                replies = [*replies, *await conversation.show(msg, ctx)]
            elif ctx.resumed and ctx.state is not None and (back := self.routes.conversation(ctx.state.name)):
                # A conversation started in the middle of another has ended: the first one carries on.
                replies = [*replies, *await back.show(msg, ctx)]
        except Exception:
            log.exception("handler failed for %s", msg.session_id())
            return [text(ctx.t("error.internal"))]
        await ctx.save_state()
        stayed = before is not None and snapshot(ctx) is not None and snapshot(ctx)[:2] == before[:2]
        await self._remember_choices(ctx, replies, keep_on_screen=stayed or ctx.answered_older)
        return replies

    async def _route(self, msg: Incoming, ctx: Context) -> tuple[list[Outgoing], bool]:
        """The replies, and whether the event was part of the conversation the account is in."""
        conversation = self.routes.conversation(ctx.state.name) if ctx.state else None
        # A subscribe or unsubscribe is no question: nothing to show again after it.
        if msg.kind == Kind.JOIN:
            return await self.routes.join(msg, ctx), True
        if msg.kind == Kind.LEAVE:
            return await self.routes.leave(msg, ctx), True
        if msg.kind == Kind.TEXT:
            body = msg.payload.strip()[:MAX_TEXT]
            parsed = parse_command(body) if body.startswith("/") else None
            if parsed:
                msg = replace(msg, kind=Kind.COMMAND, command=parsed[0], payload=parsed[1])
            else:
                msg = replace(msg, payload=body)
                pattern_route = self.routes.text_route(body)
                if pattern_route is not None:
                    if self._keep_private(msg):
                        return await self.routes.private_pointer(msg, ctx), False
                    if ctx.role not in pattern_route.roles:
                        return await self._refuse(msg, ctx, pattern_route.roles, body[:40]), False
                    return await pattern_route.handler(msg, ctx), False
                choice, notice = await self._choice(body, ctx, conversation, msg.quoted)
                if notice is not None:
                    return [notice], False
                if choice is not None:
                    msg = replace(msg, kind=Kind.BUTTON, payload=choice)
        if msg.kind == Kind.BUTTON and (command := parse_command(msg.payload)):
            msg = replace(msg, kind=Kind.COMMAND, command=command[0], payload=command[1])  # e.g. a "/report" button
        if msg.kind == Kind.COMMAND:
            inside = conversation is not None and (msg.command or "") in conversation.commands
            return await self._command(msg, ctx), inside
        if msg.kind in (Kind.BUTTON, Kind.POLL_ANSWER):
            inside = conversation is not None and conversation.owns_button(msg.payload)
            return await self._button(msg, ctx), inside
        handler = conversation.step_handler(ctx.state.step) if conversation is not None else None
        if msg.kind == Kind.MEDIA:
            if handler is not None:
                return await handler(msg, ctx), True
            return await self.routes.media(msg, ctx), False
        if not msg.payload:
            return [text(ctx.t("error.empty"))], False
        if handler is not None:
            return await handler(msg, ctx), True
        return await self.routes.free_text(msg, ctx), False

    async def _choice(self, body: str, ctx: Context, conversation: Conversation | None,
                      quoted: str | None = None) -> tuple[str | None, Outgoing | None]:
        """The option data a typed answer picks, or a notice when it names an option nothing offers now.

        A number or letter answers the options of the message it quotes (a platform reply) when that one is
        remembered, else the newest message's; words may answer any recent message's. Outside a conversation,
        a bare number or letter that fits no open option is told so (the question closed, or the options are
        1-n); inside one, the conversation's own step reads it (an amount).
        """
        memory = await ctx.store.choices.offers(ctx.account.id)
        latest = [] if memory.closed or not memory.offers else memory.offers[0]
        referred = memory.offer_for(quoted) if quoted else None
        if referred is not None and not (memory.closed and referred is memory.offers[0]):
            if (choice := match_choice(body, referred)) is not None:
                ctx.answered_older = referred is not memory.offers[0]
                return choice, None
            if index_of(body) is not None and conversation is None:
                return None, text(ctx.t("choice.quoted_out_of_range", count=len(referred)))
        choice = match_choice(body, latest)
        if choice is not None:
            return choice, None
        if index_of(body) is not None:
            if conversation is not None or not memory.offers:
                return None, None
            if latest:
                return None, text(ctx.t("choice.out_of_range", count=len(latest)))
            return None, text(ctx.t("choice.closed"))
        for older in memory.offers[0 if memory.closed else 1:]:
            choice = match_words(body, older)
            # An older option of the conversation's own is a step it has moved past: its step reads the text.
            if choice is not None and not (conversation is not None and conversation.owns_button(choice)):
                return choice, None
        return None, None
    async def _command(self, msg: Incoming, ctx: Context) -> list[Outgoing]:
        command = self.routes.command(msg.command or "")
        if command is None:
            return [text(ctx.t("error.unknown_command", command=(msg.command or "")[:32]))]
        if command.name in self.routes.private_only and self._keep_private(msg):
            return await self.routes.private_pointer(msg, ctx)
        if ctx.role not in command.roles:
            return await self._refuse(msg, ctx, command.roles, f"/{command.name}")
        return await command.handler(msg, ctx)

    async def _button(self, msg: Incoming, ctx: Context) -> list[Outgoing]:
        route = self.routes.button(msg.payload)
        if route is None:
            return [text(ctx.t("error.stale_button"))]
        if route.prefix not in self.routes.group_buttons and self._keep_private(msg):
            return await self.routes.private_pointer(msg, ctx)
        if ctx.role not in route.roles:
            return await self._refuse(msg, ctx, route.roles, msg.payload[:40])
        return await route.handler(msg, ctx)

    def _keep_private(self, msg: Incoming) -> bool:
        """Whether this event came from a group other than the security group, where nothing personal happens."""
        return msg.is_group and not msg.security_group and self.routes.private_pointer is not None

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
        """Keep the options each reply offered, so "2", "B" or the words answer them on any platform.

        keep_on_screen: the conversation is still at the step it was, so when these replies offer no
        options (a "please answer the question" nudge) the options already shown are still the ones to answer.
        """
        shown = [choices for reply in replies if (choices := offered(reply))]
        if not shown and keep_on_screen:
            return
        # The repository writes only when something changed: most answers offer nothing to an account
        # that had nothing open, and a read is much cheaper than a queued write transaction.
        await ctx.store.choices.remember(ctx.account.id, shown)
