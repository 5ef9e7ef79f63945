"""Named cron jobs in the configured time zone (APScheduler 3), with missed runs caught up once.

Each feature's jobs module lists its jobs as JobSpecs (`JOBS = (JobSpec(...), ...)`), and the composition
root (bot/app.py, `App.jobs()`) gathers them with the engine's own ENGINE_JOBS:

    JobSpec("office.weekly_report", lambda config: config.schedule.weekly_report, send_weekly_report)

`cron` is a crontab string ("0 21 * * *", local time) or a function of the config returning one;
`factory(app)` returns the awaitable to run. A job added again under the same name replaces the old one. After downtime, a job whose fire time passed while the process was down runs
once at start (coalesced), however many ticks were missed.

With several servers on one database only the leader (bot/leader.py) runs the jobs, and catches up
when it starts leading; a job declared `everywhere` (finishing this process's own stale inbox
events) runs in every process. Each tick is claimed in job_runs before it runs, so even two
processes that both believe they lead for a moment run a tick once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.clock import iso, parse_iso
from bot.leader import BEAT_S, PEER_TIMEOUT, beating_since

log = logging.getLogger(__name__)

CronSource = str | Callable[[Any], str]
JobFactory = Callable[[Any], Awaitable[Any]]
MISFIRE_GRACE_S = 6 * 3600      # a run late by more than this (process asleep) is skipped, not run late
CATCH_UP_LIMIT = timedelta(days=7)
TAKEOVER_WAIT_S = PEER_TIMEOUT.total_seconds() + BEAT_S   # a dead claimer's heartbeat is stale by then
_LAST_RUN_KEY = "scheduler:last_run:"


@dataclass(frozen=True)
class JobSpec:
    """One named job: when it fires and what it runs."""

    name: str
    cron: CronSource
    factory: JobFactory
    everywhere: bool = False    # runs in every process, not only the leader (no tick claim)

    def crontab(self, config) -> str:
        """The job's crontab string for this config."""
        return self.cron(config) if callable(self.cron) else self.cron


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday) as APScheduler day names (whose 0 is Monday)."""
    if field == "*" or any(c.isalpha() for c in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low, high = (int(x) for x in base.split("-", 1))
        else:
            low = int(base)
            high = 6 if step_text else low
        if not (0 <= low <= 7 and 0 <= high <= 7 and low <= high and step > 0):
            raise ValueError(f"bad day of week {part!r}")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def make_trigger(crontab: str, tz) -> CronTrigger:
    """A cron trigger in the given time zone, crontab semantics (day 3 is Wednesday); ValueError if bad."""
    fields = crontab.split()
    if len(fields) == 5:
        fields[4] = crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=tz)


def next_fire_time(crontab: str, tz, after: datetime) -> datetime:
    """The first fire time strictly after a moment (aware, in tz)."""
    trigger = make_trigger(crontab, tz)
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    assert fire is not None
    return fire


def latest_fire_between(crontab: str, tz, since: datetime, until: datetime) -> datetime | None:
    """The last fire time in (since, until], or None when the job was not due."""
    trigger = make_trigger(crontab, tz)
    latest = None
    fire = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
    for _ in range(100_000):   # a minutely job over a week is about 10,000 ticks
        if fire is None or fire > until:
            break
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest


def current_tick(crontab: str, tz, now: datetime) -> datetime | None:
    """The fire time a job firing now belongs to: its last one at or before now (within a week)."""
    for window in (timedelta(minutes=2), timedelta(hours=2), timedelta(days=2), CATCH_UP_LIMIT + timedelta(days=1)):
        fire = latest_fire_between(crontab, tz, now - window, now)
        if fire is not None:
            return fire
    return None


class Scheduler:
    """Runs the registered jobs for one App on its event loop."""

    def __init__(self, app, jobs: dict[str, JobSpec]) -> None:
        self.app = app
        self.config = app.config
        self.clock = app.clock
        self.jobs = dict(jobs)
        self._catching_up: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self.interrupted: list[str] = []     # jobs whose missed tick another process claimed and has not finished
        self.aps = AsyncIOScheduler(
            timezone=self.config.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        )

    def add(self, spec: JobSpec) -> None:
        """Schedule a job, replacing one of the same name."""
        self.jobs[spec.name] = spec
        trigger = make_trigger(spec.crontab(self.config), self.config.tz)
        if self.aps.get_job(spec.name) is not None:   # before start, APScheduler would keep both
            self.aps.remove_job(spec.name)
        self.aps.add_job(self.fire, trigger, args=[spec.name], id=spec.name, name=spec.name,
                         replace_existing=True)

    async def fire(self, name: str) -> bool:
        """APScheduler's call at a fire time: run the job if this process should and the tick is unclaimed."""
        spec = self.jobs[name]
        if spec.everywhere:
            return await self.run_job(name)
        if not self.app.leadership.leading:
            return False
        tick = current_tick(spec.crontab(self.config), self.config.tz, self.clock.now())
        if tick is None:
            return False
        return await self.run_tick(name, tick) is True

    async def run_tick(self, name: str, tick: datetime) -> bool | None:
        """Run a job for one fire time unless some process claimed that tick (None); else whether it worked."""
        stamp = iso(tick)
        # Heartbeats on both engines: a restarted SQLite server also waits for its dead self's to go stale.
        if not await self.app.job_runs.claim(name, stamp, self.app.token, iso(self.clock.now()), beating_since()):
            log.info("scheduled job %s for %s already run by another process; skipped", name, stamp)
            return None
        worked = await self.run_job(name)
        await self.app.job_runs.finish(name, stamp, iso(self.clock.now()))
        return worked

    async def run_job(self, name: str) -> bool:
        """Run one job now and remember when; False if it failed (it is logged, never raised)."""
        spec = self.jobs[name]
        started = self.clock.now()
        try:
            await spec.factory(self.app)
        except Exception:
            log.exception("scheduled job %s failed", name)
            return False
        await self.app.store.kv.set(_LAST_RUN_KEY + name, iso(started))
        return True

    async def catch_up(self) -> list[str]:
        """Run once every job that was due while no process ran it; return their names.

        A tick another process claimed but has not finished is noted in `self.interrupted`: if that
        process died, the tick is taken over by the catch-up that follows once its heartbeat is stale.
        """
        now = self.clock.now()
        ran: list[str] = []
        self.interrupted = []
        for name, spec in self.jobs.items():
            last = await self.app.store.kv.get(_LAST_RUN_KEY + name)
            if last is None:          # never ran here: start counting from now
                await self.app.store.kv.set(_LAST_RUN_KEY + name, iso(now))
                continue
            since = max(parse_iso(last), now - CATCH_UP_LIMIT)
            missed = latest_fire_between(spec.crontab(self.config), self.config.tz, since, now)
            if missed is None:
                continue
            if spec.everywhere:
                await self.run_job(name)
            elif await self.run_tick(name, missed) is None:
                if not await self.app.job_runs.finished(name, iso(missed)):
                    self.interrupted.append(name)
                continue      # another process ran (or runs) that tick
            log.warning("job %s was due while no server ran it; ran it once now", name)
            ran.append(name)
        return ran

    async def start(self) -> None:
        """Add every job and start firing; the leader (now, or whenever this process starts leading) catches up."""
        for spec in list(self.jobs.values()):
            self.add(spec)
        await self.app.leadership.on_lead("the scheduler's catch-up", self.catch_up_soon, None)
        self.aps.start()

    async def catch_up_soon(self) -> None:
        """Start the catch-up beside the caller (a leader's takeover must not wait for a long job)."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.create_task(self._catch_up_and_take_over())

    async def _catch_up_and_take_over(self) -> None:
        """Catch up; if a tick was left unfinished by another process, look again once a dead one would be stale."""
        await self.catch_up()
        if not self.interrupted:
            return
        log.warning("scheduled job(s) %s were started by another server and are not finished; if it died,"
                    " they are taken over in %.0f s", ", ".join(self.interrupted), TAKEOVER_WAIT_S)
        try:
            await asyncio.wait_for(self._stopping.wait(), TAKEOVER_WAIT_S)
            return
        except TimeoutError:
            pass
        if self.app.leadership.leading:
            await self.catch_up()

    async def stop(self) -> None:
        """Stop firing and let a catch-up under way finish (a running job is left to finish on the loop)."""
        self._stopping.set()
        if self.aps.running:
            self.aps.shutdown(wait=False)
        if self._catching_up is not None:
            try:
                await self._catching_up
            except Exception:
                log.exception("the scheduler's catch-up failed")


async def prune_inbox(app) -> int:
    """Forget replied inbox events past their keep time while running, not only at start (~2.8 MB/min at 20/s)."""
    from bot import inbox

    removed = await inbox.prune(app)
    if removed:
        log.info("inbox: pruned %d replied events", removed)
    return removed


async def finish_stale_inbox(app) -> int:
    """Handle the events whose handler died while running (the database failed under it), without a restart.

    Through each channel that can (`recover_stale`); with inbox.STALE at one minute an event waits
    at most about two minutes for it. Events still being handled are left alone.
    """
    finished = 0
    for channel in list(app.channels.values()):
        recover_stale = getattr(channel, "recover_stale", None)
        if recover_stale is not None:
            done = await recover_stale()
            finished += done.handled + done.resent
    return finished


async def prune_coordination(app) -> int:
    """Forget ticks run over a month ago and servers silent for a day (the tables would only grow)."""
    now = app.clock.now()
    removed = await app.job_runs.prune(iso(now - timedelta(days=30)))
    from bot.leader import wall_now
    return removed + await app.servers.prune(iso(wall_now() - timedelta(days=1)))


ENGINE_JOBS = (JobSpec("inbox.prune", "*/10 * * * *", prune_inbox),
               JobSpec("servers.prune", "17 4 * * *", prune_coordination),
               JobSpec("inbox.stale", "* * * * *", finish_stale_inbox, everywhere=True))


async def start(app, http) -> Scheduler:
    """The `wuzha serve` starter: run the jobs the composition root gathers (App.jobs())."""
    del http
    scheduler = Scheduler(app, app.jobs())
    await scheduler.start()
    app.scheduler = scheduler
    return scheduler
