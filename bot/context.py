"""What a handler gets besides the message: who is talking, in which language, and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.clock import local_day
from bot.roles import effective_role
from storage.records import Account, ConversationState, Person

PAUSED = "_paused"        # state data key: the conversation this one interrupted

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class Context:
    """Per-message context: the account, the person behind it, the conversation, the services."""

    services: Services
    account: Account
    person: Person | None
    lang: str
    state: ConversationState | None = None
    routes: Any = None                   # the route table answering this message (for /help and text commands)
    resumed: bool = False                # ending this conversation brought back the one it had paused
    answered_older: bool = False         # a quoted older message's option was picked: newer ones stay open
    _state_dirty: bool = field(default=False, repr=False)

    # --- shortcuts to the services -------------------------------------------------
    @property
    def store(self):
        """The repositories."""
        return self.services.store

    @property
    def library(self):
        """The content library."""
        return self.services.library

    @property
    def config(self):
        """The validated config."""
        return self.services.config

    @property
    def clock(self):
        """The clock."""
        return self.services.clock

    @property
    def outbox(self):
        """The outbox service, for pushes."""
        return self.services.outbox

    @property
    def role(self) -> str:
        """The effective role ('guest' when not bound)."""
        return effective_role(self.person, self.config, self.account)

    def t(self, key: str, **values) -> str:
        """An interface string in the user's language."""
        return self.services.translate(key, self.lang, **values)

    def today(self) -> str:
        """The local date, 'YYYY-MM-DD'."""
        return local_day(self.clock.now(), self.config.tz)

    # --- conversation state --------------------------------------------------------
    def in_conversation(self, name: str | None = None) -> bool:
        """Whether the account is in a conversation (the named one, if given)."""
        return self.state is not None and (name is None or self.state.name == name)

    def begin(self, name: str, step: str, **data) -> None:
        """Enter a conversation; one it interrupts is paused and comes back when this one ends."""
        paused = None
        if self.state is not None:
            if self.state.name == name:
                paused = self.state.data.get(PAUSED)
            elif self._resumable(self.state.name):
                kept = {k: v for k, v in self.state.data.items() if k != PAUSED}
                paused = {"name": self.state.name, "step": self.state.step, "data": kept}
        self.state = ConversationState(name, step, dict(data))
        if paused is not None:
            self.state.data[PAUSED] = paused
        self.resumed = False
        self._state_dirty = True

    def goto(self, step: str, **data) -> None:
        """Move the current conversation to a step, updating its data."""
        assert self.state is not None, "goto outside a conversation"
        self.state.step = step
        self.state.data.update(data)
        self._state_dirty = True

    def update(self, **data) -> None:
        """Change the conversation's data without moving."""
        assert self.state is not None, "update outside a conversation"
        self.state.data.update(data)
        self._state_dirty = True

    def end(self, resume: bool = True) -> None:
        """Leave the conversation; the one it paused (if any, and resume) takes over again where it stood."""
        paused = self.state.data.get(PAUSED) if self.state is not None and resume else None
        self.state = ConversationState(paused["name"], paused["step"], paused["data"]) if paused else None
        self.resumed = paused is not None
        self._state_dirty = True

    def _resumable(self, name: str) -> bool:
        conversation = self.routes.conversation(name) if self.routes is not None else None
        return conversation is not None and conversation.resumable

    async def save_state(self) -> None:
        """Persist the conversation state if a handler changed it."""
        if not self._state_dirty:
            return
        if self.state is None:
            await self.store.conversations.clear(self.account.id)
        else:
            await self.store.conversations.set(self.account.id, self.state)
        self._state_dirty = False

    async def audit(self, action: str, target: str = "", **detail) -> None:
        """Write an audit-log entry for this actor."""
        await self.store.audit.write(
            action, target, actor_person_id=self.person.id if self.person else None,
            actor_account_id=self.account.id, detail=detail or None,
        )
