"""The long-lived services a handler can reach through its Context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Translator
from bot.library.model import Library
from storage.store import Store


@dataclass
class Services:
    """Config, clock, storage, content and the outbox, shared by every handler."""

    config: Config
    clock: Clock
    store: Store
    library: Library
    translate: Translator
    outbox: Any = None                  # bot.outbox.Outbox
    extras: dict[str, Any] = field(default_factory=dict)   # e.g. the matcher, built once at start
