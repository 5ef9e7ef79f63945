"""Office subcommands: `wuzha export ledger`, `wuzha report weekly`, `wuzha audit`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from bot.clock import parse_iso


def register(sub) -> None:
    """Add the office's subcommands to the `wuzha` parser."""
    export = sub.add_parser("export", help="export the ledger (台账)")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    ledger = export_sub.add_parser(
        "ledger", help="the ledger for a period as XLSX, or CSV (a ZIP of one CSV per sheet)")
    ledger.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    ledger.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (inclusive)")
    ledger.add_argument("--college", default="", help="only this college")
    ledger.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    ledger.add_argument("--lang", choices=("zh", "en"), default="zh", help="headers' language (default zh)")
    ledger.add_argument("--out", type=Path, default=None, help="file to write (default: a name with the dates; csv writes a .zip of one CSV per sheet)")
    ledger.set_defaults(func=cmd_export_ledger)

    report = sub.add_parser("report", help="reports for the security office")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    weekly = report_sub.add_parser("weekly", help="the weekly report picture (PNG)")
    weekly.add_argument("--out", type=Path, required=True, help="PNG file to write")
    weekly.add_argument("--lang", choices=("zh", "en"), default=None)
    weekly.set_defaults(func=cmd_report_weekly)

    audit = sub.add_parser("audit", help="print the audit log (newest first)")
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--action", default=None, help="only this action, e.g. export.ledger or report.view")
    audit.add_argument("--refused", action="store_const", const="refused", dest="action",
                       help="only refused attempts at office or class-leader functions")
    audit.set_defaults(func=cmd_audit)


async def cmd_export_ledger(args, config) -> int:
    """Write the ledger file and record the export in the audit log."""
    from bot.cli import opened_app
    from bot.figures import Period
    from bot.ledger import export_ledger

    try:
        period = Period(date.fromisoformat(args.first), date.fromisoformat(args.last))
    except ValueError:
        print("export: --from and --to must be dates like 2026-09-01", file=sys.stderr)
        return 2
    if period.first > period.last:
        print("export: --from is after --to", file=sys.stderr)
        return 2
    async with opened_app(config) as app:
        if args.college and args.college not in await app.store.classes.colleges():
            print(f"export: no college {args.college!r}", file=sys.stderr)
            return 2
        data, filename = await export_ledger(app.store, config, app.services.library, app.services.translate,
                                             period, args.college, args.format, args.lang)
        out = args.out or Path(filename)
        if out.suffix.lower() != Path(filename).suffix:
            # The CSV ledger is a ZIP of one CSV per sheet: a .csv name would hide that from Excel and the clerk.
            out = out.with_suffix(Path(filename).suffix)
        out.write_bytes(data)
        await app.store.audit.write("export.ledger", str(out), detail={
            "first": args.first, "last": args.last, "college": args.college, "format": args.format,
            "bytes": len(data), "via": "cli"})
    print(f"ledger written: {out} ({len(data):,} bytes)")
    return 0


async def cmd_report_weekly(args, config) -> int:
    """Render the weekly picture to a file."""
    from bot.cli import opened_app
    from bot.weekly_report import FontMissing, weekly_png

    async with opened_app(config) as app:
        try:
            png = await weekly_png(app, args.lang or config.general.default_language)
        except FontMissing as exc:
            print(f"report: {exc}", file=sys.stderr)
            return 1
    args.out.write_bytes(png)
    print(f"weekly report written: {args.out} ({len(png):,} bytes)")
    return 0


async def cmd_audit(args, config) -> int:
    """Print the newest audit entries, one per line."""
    from bot.cli import opened_app

    async with opened_app(config) as app:
        rows = await app.store.audit.recent(args.limit, args.action)
        actors = {}
        for person_id in {r["actor_person_id"] for r in rows if r["actor_person_id"] is not None}:
            person = await app.store.people.get(person_id)
            actors[person_id] = " ".join(filter(None, [person.person_no, person.name])) if person else ""
    if not rows:
        print("the audit log is empty")
        return 0
    for row in rows:
        person_id = row["actor_person_id"]
        actor = "-" if person_id is None else (actors.get(person_id) or f"#{person_id} (forgotten)")
        detail = json.loads(row["detail"] or "{}")
        extra = " ".join(f"{k}={v}" for k, v in detail.items())
        local = parse_iso(row["at"]).astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{local}  {actor:<14} {row['action']:<22} {row['target'] or ''}  {extra}".rstrip())
    return 0
