"""Declared conversations: each names its steps (step → handler for what is typed there), how its current
step is shown again, and the buttons and commands that belong to it.

The dispatcher uses the declaration to keep a conversation whole: anything outside it (a /check, /lang,
/help, a button of an older message) is answered, and then the conversation's current step is shown again,
untouched, so the next answer lands where the person left off.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.context import Context
from bot.events import Incoming, Outgoing

Handler = Callable[[Incoming, Context], Awaitable[list[Outgoing]]]
ANY_STEP = "*"           # the step key whose handler takes every step not listed (drills: one per turn)


@dataclass(frozen=True)
class Conversation:
    """One conversation: its step table, what shows the current step, and what belongs to it."""

    name: str
    steps: Mapping[str, Handler]
    show: Handler                                   # the current step's question again (may return [])
    buttons: tuple[str, ...] = ()                   # button data prefixes answered inside it
    commands: tuple[str, ...] = ()                  # commands that act on it (e.g. /report while filling one)
    resumable: bool = True                          # paused by another conversation, it comes back after
    def step_handler(self, step: str) -> Handler | None:
        """The handler for text (or a file) at a step."""
        return self.steps.get(step) or self.steps.get(ANY_STEP)

    def owns_button(self, data: str) -> bool:
        """Whether a button's data belongs to this conversation."""
        return any(data.startswith(prefix) for prefix in self.buttons)


def snapshot(ctx: Context) -> tuple[str, str, str] | None:
    """Where the account stands: (conversation, step, data) as comparable values, or None."""
    state = ctx.state
    if state is None:
        return None
    return state.name, state.step, json.dumps(state.data, sort_keys=True, ensure_ascii=False, default=str)
