"""The local chat: a terminal (or piped input) talking to the bot through the real dispatcher."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot import inbox
from bot.channels.base import Channel, Delivery, Limits
from bot.choices import offered, option_lines
from bot.events import Incoming, Kind, Outgoing
from bot.roles import effective_role
from storage.records import Person

PLATFORM = "console"
SECURITY_ADDRESS = "security"
BOT_PREFIX = "wuzha › "
PUSH_PREFIX = "wuzha 📣 "


def render(message: Outgoing, files_dir: Path, prefix: str = BOT_PREFIX) -> str:
    """Turn a message into terminal text: numbered buttons, lettered quiz options, saved files."""
    indent = " " * len(prefix)
    lines: list[str] = []
    if message.quiz is not None:
        lines.append(message.quiz.question)
        lines += [f"  {line}" for line in option_lines(message)]
    elif message.text:
        lines += message.text.splitlines()
    for attachment, kind in ((message.image, "image"), (message.file, "file")):
        if attachment is not None:
            files_dir.mkdir(parents=True, exist_ok=True)
            path = files_dir / (message.filename or f"wuzha-{kind}.bin")
            path.write_bytes(attachment)
            lines.append(f"[{kind}: {path}]")
    if message.buttons:
        lines.append("   ".join(f"[{i}] {b.label}" for i, b in enumerate(message.flat_buttons(), 1)))
    body = ("\n" + indent).join(lines) if lines else ""
    return prefix + body


class ConsoleChannel(Channel):
    """One terminal session; pushes for its chat (and, for security people, the office's cards) print here."""

    def __init__(self, app, user_key: str, out: TextIO = sys.stdout, files_dir: Path | None = None) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=1, batch=50))
        self.app = app
        self.user_key = user_key
        self.out = out
        self.files_dir = files_dir or app.config.data_dir / "console-files"
        self.is_security = False

    def write(self, message: Outgoing, prefix: str = BOT_PREFIX) -> None:
        """Print one message."""
        print(render(message, self.files_dir, prefix), file=self.out, flush=True)

    def served_addresses(self) -> list[str]:
        """This session's own chat, and the security channel when a security person is at the terminal."""
        return [self.user_key, SECURITY_ADDRESS] if self.is_security else [self.user_key]

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Print a push for this session; an office card's options become this terminal's to answer by number."""
        self.write(message, PUSH_PREFIX)
        if address == SECURITY_ADDRESS and (choices := offered(message)):
            account = await self.app.store.accounts.find(PLATFORM, self.user_key)
            if account is not None:
                await self.app.store.choices.set(account.id, choices)
        return Delivery(ok=True)

    async def refresh_role(self) -> None:
        """Remember whether this session belongs to a security person (they see the cards)."""
        account = await self.app.store.accounts.find(PLATFORM, self.user_key)
        person = await self.app.store.people.get(account.person_id) if account and account.person_id else None
        self.is_security = effective_role(person, self.app.config, account) == "security"

    async def send_line(self, line: str) -> list[Outgoing]:
        """Hand one typed line to the shared inbound pipeline and print the replies."""
        msg = Incoming(platform=PLATFORM, user_key=self.user_key, chat_key=self.user_key, kind=Kind.TEXT,
                       payload=line)
        printed: list[Outgoing] = []

        async def deliver(replies: list[Outgoing]) -> None:
            for reply in replies:
                self.write(reply)
            printed.extend(replies)

        await self.app.pipeline.take(msg, f"{PLATFORM}:{self.user_key}:{uuid.uuid4().hex}", deliver,
                                     reply_to=self.user_key)
        await self.refresh_role()
        return printed


async def bind_console_as(app, person: Person) -> str:
    """Link a console account to a person (the terminal is trusted); return its user key."""
    user_key = f"local:{person.person_no or person.id}"
    account = await app.store.accounts.touch(PLATFORM, user_key, user_key)
    await app.store.accounts.bind(account.id, person.id)
    return user_key


async def run_chat(app, user_key: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Read lines until end of input (or 'exit'), answering each; pushes print as they come."""
    channel = ConsoleChannel(app, user_key, out=out)
    sender = app.add_channel(channel, poll_s=0.5)
    await inbox.recover(app, PLATFORM)       # lines a stopped session took in but never answered: answered now
    await channel.refresh_role()
    stop = asyncio.Event()
    senders = asyncio.create_task(app.run_senders(stop))
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                print("你 › ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if line.strip().lower() in ("exit", "quit", "/exit", "/quit"):
                break
            if not interactive:
                print(f"你 › {line}", file=out, flush=True)
            if not line.strip():
                continue
            await channel.send_line(line)
            await asyncio.sleep(0)
    finally:
        stop.set()
        await senders
        # Piped runs end here: show what was queued for this session before leaving.
        while await sender.drain_once():
            pass
