"""`wuzha roster invite`: personal single-use codes, the proof that gives officers and monitors their role."""

from __future__ import annotations

import csv
import getpass
import sys
from pathlib import Path

from bot.clock import parse_iso
from bot.links import deep_link


def register_roster(roster_sub) -> None:
    """Add `invite` to the `wuzha roster` subcommands."""
    invite = roster_sub.add_parser("invite", help="print a single-use personal invite code per person")
    invite.add_argument("people", nargs="+", metavar="PERSON", help="student/staff number or #id")
    invite.add_argument("--days", type=int, default=None, help="days the codes stay valid (default identity.invite_days)")
    invite.add_argument("--csv", type=Path, default=None, help="also write them to this CSV file")
    invite.add_argument("--revoke", action="store_true", help="revoke the people's unused invites instead")
    invite.set_defaults(func=cmd_roster_invite)


def os_user() -> str:
    """The operating-system user running the command, for the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


async def cmd_roster_invite(args, config) -> int:
    """Make (or revoke) personal invites; every one is audited with the OS user."""
    from bot.cli import opened_app

    days = args.days if args.days is not None else config.identity.invite_days
    if not 1 <= days <= 90:
        print("roster invite: --days must be between 1 and 90", file=sys.stderr)
        return 2
    by = f"os:{os_user()}"
    rows, missing = [], []
    async with opened_app(config) as app:
        for key in args.people:
            person = await app.store.people.resolve(key)
            if person is None or person.forgotten_at:
                missing.append(key)
                continue
            if args.revoke:
                count = await app.store.invites.revoke(person.id)
                await app.store.audit.write("identity.invite_revoked", f"#{person.id}", detail={"by": by, "count": count})
                print(f"{person.person_no}  {count} invite(s) revoked")
                continue
            code, expires = await app.store.invites.create(person.id, days, by)
            await app.store.audit.write("identity.invite_created", f"#{person.id}", detail={"by": by, "days": days})
            until = parse_iso(expires).astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
            rows.append((person.person_no, code, until, deep_link(config, code)))
    for number, code, until, link in rows:
        print(f"{number}  {code}  valid until {until}  {link or '(set identity.telegram_bot for a link)'}")
    if args.csv and rows:
        with args.csv.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["学号/工号 number", "邀请码 code", "有效期至 valid until", "Telegram"])
            writer.writerows(rows)
        print(f"written: {args.csv}")
    for key in missing:
        print(f"roster invite: no person {key!r}", file=sys.stderr)
    return 1 if missing else 0


async def forget_person(app, person_id: int) -> dict:
    """Erase a person (store.people.forget), remove their evidence files, audit it with the OS user."""
    kept = await app.store.people.forget(person_id)
    for relative in kept["evidence_paths"]:
        path = app.config.evidence_path / relative
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and path.parent != app.config.evidence_path and not any(path.parent.iterdir()):
            path.parent.rmdir()
    await app.store.audit.write("person.forget", f"#{person_id}", detail={"by": f"os:{os_user()}"})
    return kept
