"""Faults on command for the fake Bot API: 5xx, timeouts, 429 with retry_after, 403 and slow answers.

Each fault hits chosen methods (default: every method but getUpdates) and chosen chats (default:
all), from `after_s` on for `for_s` seconds (None: until cleared). Attach it with `Faults(api)`;
the fake server asks `apply` before answering each call. Tests and bench/faults.py share it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.telegram import SEND_METHODS, _error

KINDS = ("5xx", "timeout", "429", "403", "slow")


@dataclass
class Fault:
    """One scripted fault and when it applies."""

    kind: str
    starts: float
    ends: float | None
    methods: frozenset[str] | None
    chats: frozenset[int] | None
    status: int = 502
    retry_after: int = 3
    delay_s: float = 0.0

    def hits(self, method: str, chat_id: int | None, now: float) -> bool:
        """Whether this fault applies to a call now."""
        if now < self.starts or (self.ends is not None and now >= self.ends):
            return False
        if self.methods is None and method == "getUpdates":
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.chats is None or chat_id in self.chats


class Faults:
    """The faults a FakeBotApi applies; counts what each kind did."""

    def __init__(self, api=None, monotonic=time.monotonic) -> None:
        self.monotonic = monotonic
        self.rules: list[Fault] = []
        self.applied: Counter[str] = Counter()
        if api is not None:
            api.faults = self

    def add(self, kind: str, for_s: float | None = None, *, after_s: float = 0.0, methods=None, chats=None,
            status: int = 502, retry_after: int = 3, delay_s: float = 30.0) -> Fault:
        """Start a fault of a kind (see KINDS); methods "send" means every send method."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if methods == "send":
            methods = SEND_METHODS
        starts = self.monotonic() + after_s
        fault = Fault(kind, starts, None if for_s is None else starts + for_s,
                      None if methods is None else frozenset(methods),
                      None if chats is None else frozenset(int(c) for c in chats),
                      status=status, retry_after=retry_after, delay_s=delay_s)
        self.rules.append(fault)
        return fault

    def clear(self) -> None:
        """End every fault now."""
        self.rules.clear()

    async def apply(self, method: str, chat_id: int | None, call=None) -> web.Response | None:
        """The faulty answer to a call, or None to answer it normally (a slow fault delays, then answers).

        call (the fake server's record) is marked failed before a timeout's wait: the client gives up
        and the request is cancelled, so it must not count as delivered.
        """
        now = self.monotonic()
        for fault in self.rules:
            if not fault.hits(method, chat_id, now):
                continue
            self.applied[fault.kind] += 1
            if fault.kind == "5xx":
                return _error(fault.status, "Bad Gateway" if fault.status == 502 else "Internal Server Error")
            if fault.kind == "429":
                return _error(429, f"Too Many Requests: retry after {fault.retry_after}",
                              {"retry_after": fault.retry_after})
            if fault.kind == "403":
                return _error(403, "Forbidden: bot is not a member of the chat")
            if fault.kind == "timeout" and call is not None:
                call.status = 504
            await asyncio.sleep(fault.delay_s)       # timeout: longer than the client waits; slow: shorter
            if fault.kind == "timeout":
                return _error(504, "Gateway Timeout")
            return None
        return None
