"""The `wuzha` command line: chat, serve, db upgrade, backup, content check, roster, forget, ..."""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import CLI_REGISTRARS
from bot.config import Config, ConfigError, load_config
from bot.identity_cli import forget_person, register_roster
from bot.library.loader import LibraryError, check_library, load_library
from storage.db import DatabaseError, UpgradeError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="wuzha", description="无诈 wuzha — campus anti-fraud bot")
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.toml if present)")
    parser.add_argument("--db", default=None, help="database: a SQLite file or a postgresql:// URL (overrides config and WUZHA_DB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the bot in this terminal (or pipe lines in)")
    chat.add_argument("--as", dest="as_person", metavar="PERSON_ID", help="chat as this person (number or #id)")
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="run every enabled channel, the scheduler and the outbox")
    serve.add_argument("--port", type=int, default=None, help="HTTP port for callbacks and /health")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations and exit").set_defaults(func=cmd_db_upgrade)

    backup = sub.add_parser("backup", help="write a consistent copy of the live database")
    backup.add_argument("path", type=Path)
    backup.set_defaults(func=cmd_backup)

    content = sub.add_parser("content", help="the content library")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate a content library")
    check.add_argument("dir", nargs="?", type=Path, default=None)
    check.set_defaults(func=cmd_content_check)

    roster = sub.add_parser("roster", help="the roster of people and classes")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True)
    imp = roster_sub.add_parser("import", help="import or update people from a CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--restore", action="append", default=[], metavar="PERSON",
                     help="import this forgotten person again (their erasure is otherwise respected)")
    imp.set_defaults(func=cmd_roster_import)
    codes = roster_sub.add_parser("codes", help="print one join code per class")
    codes.add_argument("--csv", type=Path, default=None, help="also write them to this CSV file")
    codes.set_defaults(func=cmd_roster_codes)
    register_roster(roster_sub)

    forget = sub.add_parser("forget", help="erase a person's personal data")
    forget.add_argument("person", help="student/staff number or #id")
    forget.set_defaults(func=cmd_forget)

    outbox = sub.add_parser("outbox", help="the queue of pushes")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    retry = outbox_sub.add_parser("retry", help="send rows that failed for good again (e.g. after an outage)")
    retry.add_argument("--dead", action="store_true", required=True, help="the rows that died")
    retry.add_argument("--since", default=None, metavar="WHEN",
                       help="only rows queued at or after this time (ISO date or time, local time zone)")
    retry.set_defaults(func=cmd_outbox_retry)

    for register in CLI_REGISTRARS:      # the features' own subcommands, wired by the composition root
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `wuzha` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.func is cmd_content_check and args.dir is not None:
        return cmd_content_check(args, None)
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        result = args.func(args, config)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except LibraryError as exc:
        print("the content library has problems; fix them and start again:", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except UpgradeError as exc:
        print(f"wuzha: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:   # locked by another process past the busy timeout, disk full, ...
        print(f"wuzha: database {config.describe_database()}: {str(exc).splitlines()[0] if str(exc) else exc!r}",
              file=sys.stderr)
        return 1


def config_from_args(args) -> Config:
    """Load the config named by --config, or ./config.toml, or the defaults."""
    path = args.config
    if path is None and Path("config.toml").exists():
        path = Path("config.toml")
    return load_config(path, db_override=args.db)


@asynccontextmanager
async def opened_app(config: Config):
    """An App opened on the config's database, closed afterwards."""
    from bot.app import App

    app = await App(config).open(sender=False)
    try:
        yield app
    finally:
        await app.close()


def cmd_content_check(args, config: Config | None) -> int:
    """Validate a library and print each problem as file: entry: field: what."""
    folder = args.dir or (config.content_path() if config else None)
    problems = check_library(folder)
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) in {folder}", file=sys.stderr)
        return 1
    print(f"content OK: {folder}")
    print_quiz_cues(load_library(folder))
    return 0


def print_quiz_cues(library) -> None:
    """Report how the quiz bank stands against its cue limits, and name each question that stands out by length."""
    from bot.library.loader import LONGEST_LIMIT, quiz_cues

    for cues in quiz_cues(library):
        print(f"quiz ({cues.lang}): right option strictly longest in {len(cues.longest)}/{cues.questions}"
              f" ({cues.longest_share:.0%}), strictly shortest in {len(cues.shortest)}/{cues.questions}"
              f" ({cues.shortest_share:.0%}); limit {LONGEST_LIMIT:.0%} each; right letters A-D {cues.positions}")
        for question_id in cues.longest:
            print(f"  stands out as the longest: {question_id}")


async def cmd_db_upgrade(args, config: Config) -> int:
    """Apply pending migrations."""
    from storage.db import database_for

    db = database_for(config.database_target)
    await db.open(migrate=False)
    try:
        applied = await db.upgrade()
        version = await db.schema_version()
    finally:
        await db.close()
    print(f"applied {len(applied)} migration(s); schema version {version}: {config.describe_database()}")
    return 0


async def cmd_backup(args, config: Config) -> int:
    """Copy the live database with SQLite's online backup (PostgreSQL is backed up with pg_dump)."""
    from storage.db import database_for

    if config.uses_postgres:
        print(f"wuzha backup copies a SQLite file; the database is PostgreSQL ({config.describe_database()}).\n"
              "Back it up with PostgreSQL's own tools, which take a consistent copy while the bot runs:\n"
              f"  pg_dump --format=custom --file={args.path} '<the database URL>'\n"
              "and restore it with pg_restore --clean --dbname='<the database URL>' " + str(args.path), file=sys.stderr)
        return 2
    db = await database_for(config.database_target).open(migrate=False)   # a copy is taken as the file is, before any repair
    try:
        await db.backup(args.path)
    finally:
        await db.close()
    print(f"backup written: {args.path}")
    return 0


async def cmd_outbox_retry(args, config: Config) -> int:
    """Revive dead outbox rows; a running server picks them up (only dead rows are touched)."""
    from datetime import datetime

    from bot.clock import Clock, iso
    from storage.db import database_for
    from storage.outbox import OutboxRepo

    since = None
    if args.since:
        try:
            moment = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"wuzha outbox retry: --since {args.since!r} is not a date or time like 2026-11-23 or"
                  " 2026-11-23T08:00", file=sys.stderr)
            return 2
        since = iso(moment if moment.tzinfo else moment.replace(tzinfo=config.tz))
    db = await database_for(config.database_target).open()
    try:
        revived = await OutboxRepo(db, Clock()).revive_dead(since)
    finally:
        await db.close()
    print(f"{revived} dead outbox row(s) queued again" + (f" (queued since {args.since})" if since else ""))
    return 0


async def cmd_roster_import(args, config: Config) -> int:
    """Import a roster CSV: good rows are saved, bad rows are listed with their line."""
    from bot.roster import parse_roster

    if not args.file.exists():
        print(f"roster: {args.file}: file not found", file=sys.stderr)
        return 1
    good, rejected = parse_roster(args.file)
    inserted = updated = 0
    chunk = 500
    show_progress = len(good) > chunk
    async with opened_app(config) as app:
        for number in args.restore:
            if not await app.store.people.restore(number):
                print(f"roster: --restore {number}: no forgotten person with that number", file=sys.stderr)
        forgotten = await app.store.people.tombstoned([row.person_no for _, row in good])
        good = [(line, row) for line, row in good if row.person_no not in forgotten]
        for start in range(0, len(good), chunk):
            part = [row for _, row in good[start:start + chunk]]
            added, changed = await app.store.people.upsert_roster(part)
            inserted, updated = inserted + added, updated + changed
            if show_progress:
                done = min(start + chunk, len(good))
                bar = "#" * (30 * done // len(good))
                print(f"\rimporting [{bar:<30}] {done}/{len(good)}", end="", file=sys.stderr, flush=True)
        if show_progress:
            print(file=sys.stderr)
    for item in rejected:
        print(f"{args.file}: line {item.line}: {item.reason}")
    if forgotten:
        print(f"roster: {len(forgotten)} forgotten person(s) skipped (wuzha roster import --restore NUMBER to add one again)")
    print(f"roster: {inserted} added, {updated} updated, {len(rejected)} rejected")
    return 1 if rejected else 0


async def cmd_roster_codes(args, config: Config) -> int:
    """Print each class's join code, optionally writing a CSV."""
    async with opened_app(config) as app:
        classes = await app.store.classes.all()
    if not classes:
        print("no classes yet: import a roster first (wuzha roster import FILE.csv)")
        return 0
    for klass in classes:
        print(f"{klass.join_code}  {klass.college}  {klass.name}")
    if args.csv:
        with args.csv.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["学院 college", "班级 class", "班级码 join code"])
            writer.writerows([k.college, k.name, k.join_code] for k in classes)
        print(f"written: {args.csv}")
    return 0


async def cmd_forget(args, config: Config) -> int:
    """Erase a person's personal data and say what was kept."""
    async with opened_app(config) as app:
        person = await app.store.people.resolve(args.person)
        if person is None or person.forgotten_at:
            print(f"forget: no person {args.person!r}", file=sys.stderr)
            return 1
        kept = await forget_person(app, person.id)
    print(f"forgot person #{person.id}: number, name, class, dorm, tags, {kept['accounts_deleted']} chat account(s) "
          f"with their conversations, {kept['pushes_cancelled']} pending push(es), "
          f"{kept['followups_cancelled']} scheduled follow-up(s), {kept['descriptions_deleted']} own description(s) "
          f"and {kept['evidence_deleted']} evidence file(s) deleted; their number is remembered only as a keyed "
          "hash, so a roster import skips them (--restore to add them again).")
    print("kept, without anything that identifies them: "
          f"{kept['checkins']} check-in answer(s), {kept['quiz_attempts']} quiz attempt(s), "
          f"{kept['pledges']} pledge signature(s), {kept['drill_results']} drill result(s), "
          f"{kept['reports']} report(s) as anonymous case records (type, amount, dates, handling steps).")
    return 0


async def cmd_chat(args, config: Config) -> int:
    """Chat with the bot in this terminal."""
    from bot.channels.console import bind_console_as, run_chat

    async with opened_app(config) as app:
        if args.as_person:
            person = await app.store.people.resolve(args.as_person)
            if person is None or person.forgotten_at:
                print(f"chat: no person {args.as_person!r} (see wuzha roster import)", file=sys.stderr)
                return 2
            user_key = await bind_console_as(app, person)
        else:
            user_key = "local"
            await offer_demo_class(app)
        await run_chat(app, user_key)
    return 0


async def offer_demo_class(app) -> None:
    """On an empty database, create a demo class so the first run works without a roster."""
    classes = await app.store.classes.all()
    demo = next((k for k in classes if k.is_demo), None)
    if not classes:
        await app.store.classes.ensure("演示班 Demo class", "演示学院 Demo college", is_demo=True)
        demo = await app.store.classes.by_name("演示班 Demo class")
    if demo is not None:
        print(f"演示班级码 / demo class code: {demo.join_code}  — 发送 /start 开始 / send /start to begin")


async def cmd_serve(args, config: Config) -> int:
    """Run every enabled channel until Ctrl-C or SIGTERM."""
    from bot.serve import StartupError, serve

    if args.port is not None:
        config.server.port = args.port
    try:
        return await serve(config)
    except StartupError as exc:
        print(f"wuzha serve: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
