"""Pushes nobody asked for go through here: queued durably, drained per channel within its limits."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.breaker import Breaker
from bot.channels.base import Channel, Delivery
from bot.choices import offered
from bot.clock import iso
from bot.events import Outgoing
from bot.ratelimit import limiter_for
from storage.db import GroupCommitQueue
from storage.outbox import OutboxRow, Outcome
from storage.records import Account

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ENQUEUE_CHUNK = 2000       # people per account lookup and per transaction when queueing a push for many
MAX_BACKOFF_S = 3600
DEFER_OVER_S = 5.0         # an address that would hold its batch longer goes back to the queue instead
CALL_MARGIN_S = 2.0        # a shared call is counted against each address this late, to stay inside per-minute caps
SECURITY_ADDRESSES = {
    "console": ("console", "security"),
    "wecom_robot": ("wecom_robot", "robot"),
    "wecom_app": ("wecom", "@security"),
}
MessageFor = Callable[[Account], Outgoing]


@dataclass
class PushSummary:
    """What a push to many people did."""

    queued: int = 0
    duplicates: int = 0
    unreachable: int = 0


def in_quiet_hours(moment: datetime, window, tz) -> bool:
    """Whether a moment falls in the quiet-hours window ((h, m), (h, m)), which may wrap midnight."""
    if window is None:
        return False
    local = moment.astimezone(tz).time()
    start, end = time(*window[0]), time(*window[1])
    if start <= end:
        return start <= local < end
    return local >= start or local < end


class Outbox:
    """Queues pushes as outbox rows; senders deliver them."""

    def __init__(self, store, clock, config) -> None:
        self.store, self.clock, self.config = store, clock, config
        self._wakeups: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def wakeup(self, channel: str) -> asyncio.Event:
        """The event a channel's sender waits on."""
        return self._wakeups[channel]

    def _nudge(self, channels: Iterable[str]) -> None:
        for channel in set(channels):
            self._wakeups[channel].set()

    async def push_to_person(self, person_id: int, campaign: str, message: Outgoing | MessageFor,
                             dedupe_key: str | None = None, priority: int = 5) -> bool:
        """Queue one push to a person's preferred account; False if a duplicate or unreachable."""
        summary = await self.push_many(campaign, [(person_id, message)], priority=priority,
                                       dedupe_keys={person_id: dedupe_key} if dedupe_key else None)
        return summary.queued == 1

    async def push_many(self, campaign: str, items: Iterable[tuple[int, Outgoing | MessageFor]],
                        priority: int = 5, dedupe_keys: dict[int, str] | None = None) -> PushSummary:
        """Queue a campaign for many people; the dedupe key is campaign + person unless given."""
        items = list(items)
        summary = PushSummary()
        # A chunk at a time: a province-wide push holds a few thousand accounts in memory, not a million.
        for start in range(0, len(items), ENQUEUE_CHUNK):
            chunk = items[start:start + ENQUEUE_CHUNK]
            accounts = await self.store.accounts.preferred_for_many([person_id for person_id, _ in chunk])
            rows: list[OutboxRow] = []
            # The same Outgoing object (one text for everyone, or one per language) is serialised once a chunk.
            payloads: dict[int, tuple[Outgoing, str]] = {}
            for person_id, message in chunk:
                account = accounts.get(person_id)
                if account is None:
                    summary.unreachable += 1
                    continue
                outgoing = message(account) if callable(message) else message
                cached = payloads.get(id(outgoing))
                if cached is None or cached[0] is not outgoing:
                    cached = payloads[id(outgoing)] = (outgoing, json.dumps(outgoing.to_dict(), ensure_ascii=False))
                key = (dedupe_keys or {}).get(person_id) or f"{campaign}:{person_id}"
                rows.append(OutboxRow(
                    channel=account.platform, address=account.chat_key, campaign=campaign,
                    payload=cached[1], dedupe_key=key, account_id=account.id, person_id=person_id,
                    priority=0 if outgoing.urgent else priority, urgent=outgoing.urgent,
                ))
            await self._enqueue_chunk(rows, summary)
            await asyncio.sleep(0)   # let replies to people chatting through between chunks
        return summary

    async def _enqueue_chunk(self, rows: list[OutboxRow], summary: PushSummary) -> None:
        """Write one chunk of a push in its own short transaction and wake the senders."""
        if not rows:
            return
        queued = await self.store.outbox.enqueue(rows)
        summary.queued += queued
        summary.duplicates += len(rows) - queued
        self._nudge(r.channel for r in rows)

    async def push_to_address(self, channel: str, address: str, campaign: str, message: Outgoing,
                              dedupe_key: str, priority: int = 5, delay_s: float = 0) -> bool:
        """Queue one push to a raw channel address (a group, a robot); False if a duplicate."""
        not_before = iso(self.clock.now() + timedelta(seconds=delay_s)) if delay_s else None
        row = OutboxRow(channel=channel, address=address, campaign=campaign, payload=message.to_dict(),
                        dedupe_key=dedupe_key, priority=0 if message.urgent else priority, urgent=message.urgent)
        queued = await self.store.outbox.enqueue([row], not_before=not_before) == 1
        self._nudge([channel])
        return queued

    def security_addresses(self) -> list[tuple[str, str]]:
        """(channel, address) of every configured security-channel target."""
        found = []
        for target in self.config.security_channel.targets:
            if target == "telegram":
                found.append(("telegram", str(self.config.channels.telegram.security_chat_id)))
            else:
                found.append(SECURITY_ADDRESSES[target])
        return found

    async def push_to_security(self, campaign: str, message: Outgoing, dedupe_key: str) -> int:
        """Queue a card for every security-channel target; return how many rows were new."""
        queued = 0
        for channel, address in self.security_addresses():
            if (channel, address) == SECURITY_ADDRESSES["console"]:
                officers = await self._console_officers()
                if officers:       # every officer's terminal shows every card, each answerable by its numbers
                    rows = [OutboxRow(channel=channel, address=a.user_key, campaign=campaign,
                                      payload=message.to_dict(), dedupe_key=f"{dedupe_key}@{channel}:{a.id}",
                                      account_id=a.id, person_id=a.person_id, urgent=message.urgent,
                                      priority=0 if message.urgent else 5) for a in officers]
                    queued += await self.store.outbox.enqueue(rows)
                    self._nudge([channel])
                    continue
            queued += await self.push_to_address(channel, address, campaign, message, f"{dedupe_key}@{channel}")
        return queued

    async def _console_officers(self) -> list[Account]:
        """The console accounts of the security office's people."""
        accounts = []
        for person_id in await self.store.reports.office_people(self.config.roles.security):
            accounts += [a for a in await self.store.accounts.for_person(person_id) if a.platform == "console"]
        return accounts

class OutboxSender:
    """Drains one channel's rows at that channel's limits, with retries, backoff and a circuit breaker.

    Each row is settled as soon as it is delivered (outcomes that arrive together share one
    transaction), so a kill re-sends only what went out in the last few milliseconds; a row whose
    address must wait goes back to the queue instead of holding the batch; once stop is set the
    rows not yet sent go back to pending, so a SIGTERM returns within about one call's timeout.
    """

    def __init__(self, outbox: Outbox, channel: Channel, poll_s: float = 1.0) -> None:
        self.outbox = outbox
        self.store = outbox.store
        self.clock = outbox.clock
        self.channel = channel
        self.limiter = limiter_for(self.store, channel)
        self.breaker = Breaker(channel.name)
        self.poll_s = poll_s
        self._semaphore = asyncio.Semaphore(max(1, channel.limits.concurrency))
        self._address_tail: dict[str, asyncio.Future] = {}   # the last delivery queued per address (lanes > 1)
        self._stop: asyncio.Event | None = None
        self._settling: GroupCommitQueue = GroupCommitQueue(self.store.outbox.settle)

    def quiet_now(self) -> bool:
        """Whether pushes other than emergencies must wait now."""
        config = self.outbox.config
        return in_quiet_hours(self.clock.now(), config.quiet_hours(), config.tz)

    def stopping(self) -> bool:
        """Whether the process is shutting down (rows not yet sent go back to the queue)."""
        return self._stop is not None and self._stop.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until stop is set; rows claimed but not yet sent then go back to pending."""
        # With lanes > 1 the next batch is claimed while the last is still going out, so the channel's
        # rate does not dip while a batch is settled and the next claimed (the limiter and the
        # in-flight bound are shared; _deliver_address keeps each address's rows in order).
        self._stop = stop
        await asyncio.gather(*(self._run_lane(stop) for _ in range(max(1, self.channel.limits.lanes))))

    async def _run_lane(self, stop: asyncio.Event) -> None:
        wake = self.outbox.wakeup(self.channel.name)
        failing_since: float | None = None
        while not stop.is_set():
            try:
                handled = await self.drain_once()
            except Exception as exc:   # the database stalls or is full: one line per spell, and try again shortly
                if failing_since is None:
                    failing_since = self.limiter.monotonic()
                    log.error("outbox sender for %s failed (%s: %s); retrying", self.channel.name,
                              type(exc).__name__, exc)
                handled = 0
            else:
                if failing_since is not None:
                    log.warning("outbox sender for %s works again after %.0f s", self.channel.name,
                                self.limiter.monotonic() - failing_since)
                    failing_since = None
            if handled:
                continue
            wake.clear()
            timeout = self.breaker.probe_in() if self.breaker.is_open else self.poll_s
            waiters = [asyncio.ensure_future(stop.wait())]
            if not self.breaker.is_open:      # new rows do not end an outage's pause
                waiters.append(asyncio.ensure_future(wake.wait()))
            await asyncio.wait(waiters, timeout=max(timeout, 0.05), return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def drain_once(self) -> int:
        """Claim one batch (one probe row during an outage), deliver it; return how many rows were handled."""
        probing = self.breaker.is_open
        if probing and self.breaker.probe_in() > 0:
            return 0
        rows = await self.store.outbox.claim(self.channel.name, 1 if probing else self.channel.limits.batch,
                                             urgent_only=self.quiet_now(),
                                             addresses=self.channel.served_addresses())
        if not rows:
            return 0
        by_address: dict[str, list[OutboxRow]] = defaultdict(list)
        shared: list[OutboxRow] = []
        for row in rows:
            if self.channel.limits.recipients_per_call > 1 and self.channel.batchable(row.address):
                shared.append(row)
            else:
                by_address[row.address].append(row)
        results = await asyncio.gather(*(self._deliver_address(addr, group) for addr, group in by_address.items()),
                                       self._deliver_shared(shared))
        outcomes = [o for group in results for o in group]
        await self._settling.flush()
        await self.limiter.settle_pauses()
        account_by_row = {row.id: row.account_id for row in rows}
        row_by_id = {row.id: row for row in rows}
        by_account: dict[int, list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            account_id = account_by_row.get(outcome.row_id)
            if account_id:
                by_account[account_id].append(outcome)
        # Accounts are independent, so their follow-ups overlap (on PostgreSQL each is a round trip or
        # two, which one after another cost more than the batch's deliveries); one account's stay in order.
        await asyncio.gather(*(self._follow_up(account_id, group, row_by_id) for account_id, group in by_account.items()))
        return len(rows)

    async def _follow_up(self, account_id: int, outcomes: list[Outcome], row_by_id: dict[int, OutboxRow]) -> None:
        """After a batch: note an account that blocked us, or remember the options a delivered push offered."""
        for outcome in outcomes:
            if outcome.error == "unreachable":
                await self.store.accounts.mark_unreachable(account_id, "blocked or left")
            elif outcome.state == "sent":
                await self._remember_options(account_id, row_by_id[outcome.row_id])

    async def _remember_options(self, account_id: int, row: OutboxRow) -> None:
        """A delivered push with options is the newest question: '2' or its words answer it on every channel."""
        choices = offered(Outgoing.from_dict(row.payload))
        if choices:
            await self.store.choices.set(account_id, choices)

    async def _settled(self, outcome: Outcome) -> Outcome:
        """Write one row's outcome now (together with any that arrive meanwhile)."""
        await self._settling.put(outcome)
        return outcome

    async def _deliver_address(self, address: str, rows: list[OutboxRow]) -> list[Outcome]:
        """Send one address's rows in order, waiting between them as its limits require."""
        previous = self._address_tail.get(address)
        done = asyncio.get_running_loop().create_future()
        self._address_tail[address] = done
        try:
            if previous is not None:   # another lane is still sending to this address: keep the order
                await previous
            return await self._deliver_in_order(address, rows)
        finally:
            done.set_result(None)
            if self._address_tail.get(address) is done:
                del self._address_tail[address]

    async def _hold_back(self, address: str, interval: float, per_minute: int, spent: float = 0.0) -> float | None:
        """Seconds this address's next row must wait when that is too long to hold the batch for, else None.

        spent is how long this batch has already given the address: a group's 48 cards at one per 3 s
        held every other chat's answers for 144 s when each wait was judged alone.
        """
        if self.stopping():
            return 0.0
        if self.breaker.is_open and self.breaker.probe_in() > 0:
            self.breaker.held += 1
            return self.breaker.probe_in()
        wait = await self.limiter.wait_for(address, interval, per_minute)
        return wait if wait + spent > DEFER_OVER_S else None

    async def _deliver_in_order(self, address: str, rows: list[OutboxRow]) -> list[Outcome]:
        interval, per_minute = self.channel.address_limits(address)
        outcomes = []
        started = self.limiter.monotonic()
        for index, row in enumerate(rows):
            wait = await self._hold_back(address, interval, per_minute, self.limiter.monotonic() - started)
            if wait is None:
                delay = await self.limiter.take(address, interval, per_minute)
                if delay > 0:
                    await asyncio.sleep(delay)
                paused = self.limiter.paused_for(address)     # a 429 arrived while this row waited its slot
                wait = paused if paused > 0 else await self._hold_back(address, 0, 0)
            if wait is not None:   # this row and the rest of the address's rows go back, in order
                for later in rows[index:]:
                    outcomes.append(await self._settled(self._defer(later, wait)))
                break
            async with self._semaphore:
                outcomes.append(await self._settled(await self._deliver_row(row)))
        return outcomes

    async def _deliver_shared(self, rows: list[OutboxRow]) -> list[Outcome]:
        """Send rows that carry the same message in calls of up to recipients_per_call addresses."""
        size = self.channel.limits.recipients_per_call
        by_payload: dict[str, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_payload[json.dumps(row.payload, sort_keys=True, ensure_ascii=False)].append(row)
        outcomes: list[Outcome] = []
        chunks: list[list[OutboxRow]] = []
        for group in by_payload.values():
            if self.stopping() or (self.breaker.is_open and self.breaker.probe_in() > 0):
                outcomes.extend([await self._settled(self._defer(row, self.breaker.probe_in())) for row in group])
                continue
            chunk: list[OutboxRow] = []
            seen: set[str] = set()
            for row in group:
                interval, per_minute = self.channel.address_limits(row.address)
                wait = await self.limiter.wait_for(row.address, interval, per_minute)
                if wait > 0 or row.address in seen:   # over its cap, or twice in one call: later
                    outcomes.append(await self._settled(self._defer(row, max(wait, 1.0))))
                    continue
                await self.limiter.note(row.address, interval, per_minute, delay=CALL_MARGIN_S)
                seen.add(row.address)
                chunk.append(row)
                if len(chunk) == size:
                    chunks.append(chunk)
                    chunk = []
            if chunk:
                chunks.append(chunk)
        for result in await asyncio.gather(*(self._deliver_chunk(chunk) for chunk in chunks)):
            outcomes.extend(result)
        return outcomes

    async def _deliver_chunk(self, rows: list[OutboxRow]) -> list[Outcome]:
        delay = await self.limiter.take_call()
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._semaphore:
            try:
                results = await self.channel.deliver_many([r.address for r in rows],
                                                          Outgoing.from_dict(rows[0].payload))
            except Exception as exc:  # network trouble, a bug in an adapter: retry with backoff
                log.debug("shared delivery of %d outbox rows failed: %s", len(rows), exc)
                failed = Delivery(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
                results = {}
            else:
                failed = Delivery(ok=False, error="no result for this address")
            # Still holding the slot: a kill can double at most the calls in flight, and the call's rows
            # go into one commit together rather than one commit after another.
            outcomes = [self._outcome(row, results.get(row.address, failed)) for row in rows]
            return list(await asyncio.gather(*(self._settled(outcome) for outcome in outcomes)))

    async def _deliver_row(self, row: OutboxRow) -> Outcome:
        started = self.limiter.monotonic()
        try:
            result = await self.channel.deliver(row.address, Outgoing.from_dict(row.payload))
        except Exception as exc:  # network trouble, a bug in an adapter: retry with backoff (the breaker logs)
            log.debug("delivery of outbox row %s failed: %s", row.id, exc)
            result = Delivery(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        return self._outcome(row, result, started)

    def _outcome(self, row: OutboxRow, result: Delivery, started: float | None = None) -> Outcome:
        if result.ok:
            self.breaker.succeeded()
            return Outcome(row.id, "sent")
        if result.unreachable or result.permanent or result.defer_s is not None or result.retry_after is not None:
            self.breaker.succeeded()    # the platform answered: it is up, whatever it said about this row
        if result.unreachable:
            return Outcome(row.id, "undeliverable", error="unreachable")
        if result.permanent:
            return Outcome(row.id, "undeliverable", error=result.error or "refused by the platform")
        if result.defer_s is not None:
            return self._defer(row, result.defer_s)
        if result.retry_after is not None:
            self.limiter.pause(result.retry_after)
            self.limiter.pause_address(row.address, result.retry_after)
            not_before = iso(self.clock.now())     # the limiter's pause holds it back in this process
            return Outcome(row.id, "pending", error=f"retry_after {result.retry_after}", not_before=not_before,
                           refund_attempt=True)
        self.breaker.failed(result.error, started)
        if self.breaker.is_open:    # the platform is down: this is no attempt of the row's own
            self.breaker.held += 1
            return Outcome(row.id, "pending", error=result.error, refund_attempt=True,
                           not_before=iso(self.clock.now() + timedelta(seconds=self.breaker.probe_in())))
        if row.attempts >= MAX_ATTEMPTS:
            log.warning("outbox row %s (%s) died after %d attempts: %s", row.id, self.channel.name, row.attempts,
                        result.error)
            return Outcome(row.id, "dead", error=result.error or "failed too many times")
        backoff = min(MAX_BACKOFF_S, 2 ** row.attempts)
        return Outcome(row.id, "pending", error=result.error,
                       not_before=iso(self.clock.now() + timedelta(seconds=backoff)))

    def _defer(self, row: OutboxRow, wait: float) -> Outcome:
        return Outcome(row.id, "pending", error=None, refund_attempt=True,
                       not_before=iso(self.clock.now() + timedelta(seconds=wait)))
