"""Assemble config, database, content, dispatcher, outbox and channels into one running program.

The composition root: the one place in bot/ (with the office console's pages) that names the features
in handlers/ — their route table, their start-up, their scheduled jobs and their CLI subcommands.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

from bot import classify_cli
from bot.channels import wechat_menu
from bot.channels.base import Channel
from bot.clock import Clock
from bot.config import Config
from bot.dispatcher import Dispatcher
from bot.events import Incoming, Outgoing
from bot.i18n import Translator
from bot.leader import Leadership
from bot.library.loader import load_library_cached
from bot.outbox import Outbox, OutboxSender
from bot.pipeline import Pipeline
from bot.scheduler import ENGINE_JOBS, JobSpec
from bot.services import Services
from handlers import drill_jobs, features, office_cli, office_jobs, program_jobs, report_jobs
from handlers.console import cli as console_cli
from handlers.routes import build_routes
from storage.coordination import Coordinator, JobRunsRepo, ServersRepo, coordinator_for
from storage.db import Database, database_for
from storage.store import Store

log = logging.getLogger(__name__)

# Every scheduled job: the engine's own, then each feature's (a later one of the same name replaces).
JOBS: tuple[JobSpec, ...] = (*ENGINE_JOBS, *program_jobs.JOBS, *drill_jobs.JOBS, *report_jobs.JOBS, *office_jobs.JOBS)
# Modules adding their own `wuzha` subcommands: register(subparsers) of each, in this order.
CLI_REGISTRARS = (classify_cli.register, wechat_menu.register, office_cli.register, console_cli.register)


class App:
    """One wuzha process: open() it, add channels, run senders, close() it."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.db: Database | None = None
        self.services: Services | None = None
        self.dispatcher: Dispatcher | None = None
        self.channels: dict[str, Channel] = {}
        self.senders: dict[str, OutboxSender] = {}
        self.pipeline = Pipeline(self)
        self.token = uuid.uuid4().hex[:16]          # this process among the servers of one database
        self.coordinator: Coordinator = Coordinator()
        self.leadership = Leadership(self)

    async def open(self, sender: bool = True) -> App:
        """Load the library (refusing an invalid one), open and migrate the database.

        sender=False (every CLI command but serve) leaves the outbox's in-flight rows alone: they may
        belong to a live `wuzha serve`, and putting them back to pending would send them twice.
        """
        # A shallow copy per App: the parsed content and its indexes are shared, the top-level fields are not.
        library = dataclasses.replace(load_library_cached(self.config.content_path()))
        self.db = await database_for(self.config.database_target).open()
        store = Store(self.db, self.clock)
        store.inbox.owner = self.token
        self.coordinator = coordinator_for(self.db)
        self.servers, self.job_runs = ServersRepo(self.db), JobRunsRepo(self.db)
        self.services = Services(
            config=self.config, clock=self.clock, store=store, library=library,
            translate=Translator(library.strings),
        )
        self.services.outbox = Outbox(store, self.clock, self.config)
        await setup_features(self.services)
        self.dispatcher = Dispatcher(self.services, build_routes())
        recovered = await store.outbox.recover_inflight() if sender else 0
        if recovered:
            log.warning("re-queued %d outbox rows that were in flight when the process stopped", recovered)
        if sender:
            await self.leadership.beat()         # alive before it takes any event in
            await self.leadership.attempt()      # the first try: the parts that start next know their role
        return self

    @property
    def store(self) -> Store:
        """The repositories."""
        assert self.services is not None
        return self.services.store

    @property
    def outbox(self) -> Outbox:
        """The outbox service."""
        assert self.services is not None
        return self.services.outbox

    def jobs(self) -> dict[str, JobSpec]:
        """The scheduled jobs by name, for the scheduler."""
        return {job.name: job for job in JOBS}

    async def handle(self, msg: Incoming) -> list[Outgoing]:
        """Answer one incoming event."""
        assert self.dispatcher is not None
        return await self.dispatcher.handle(msg)

    def add_channel(self, channel: Channel, poll_s: float = 1.0) -> OutboxSender:
        """Register a channel adapter and the sender that drains its outbox rows."""
        self.channels[channel.name] = channel
        sender = OutboxSender(self.outbox, channel, poll_s=poll_s)
        self.senders[channel.name] = sender
        return sender

    async def run_senders(self, stop: asyncio.Event) -> None:
        """Drain every channel's outbox until stop is set."""
        await asyncio.gather(*(sender.run(stop) for sender in self.senders.values()))

    async def close(self) -> None:
        """Hand back the locks and the heartbeat, and close the database."""
        await self.leadership.resign()
        await self.coordinator.close()
        if self.db is not None:
            try:
                await self.servers.forget(self.token)     # our open rows are the others' at once
            except Exception as exc:
                log.warning("could not remove this process's heartbeat: %s", exc)
            await self.db.close()
            self.db = None


async def setup_features(services: Services) -> None:
    """Build what features need once at start (indexes, caches) into services.extras."""
    await features.setup(services)

