"""Office subcommands: `wuzha export ledger`, `wuzha report weekly`, `wuzha audit`, `wuzha baseline`."""

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
    ledger.add_argument("--maker", default="", help="who prepares the table (制表人); blank leaves a line to fill in")
    ledger.add_argument("--out", type=Path, default=None, help="file to write (default: a name with the dates; csv writes a .zip of one CSV per sheet)")
    ledger.set_defaults(func=cmd_export_ledger)

    report = sub.add_parser("report", help="reports for the security office")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    weekly = report_sub.add_parser("weekly", help="the weekly report picture (PNG)")
    weekly.add_argument("--out", type=Path, required=True, help="PNG file to write")
    weekly.add_argument("--lang", choices=("zh", "en"), default=None)
    weekly.set_defaults(func=cmd_report_weekly)

    baseline = sub.add_parser("baseline", help="last year's cases and money from police figures (for 双降)")
    baseline_sub = baseline.add_subparsers(dest="baseline_command", required=True)
    one = baseline_sub.add_parser("set", help="enter or replace one baseline")
    one.add_argument("--college", default="", help="a college of the roster (default: the whole school)")
    one.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    one.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (inclusive)")
    one.add_argument("--cases", required=True, help="cases in that period")
    one.add_argument("--money", required=True, help="money lost in yuan")
    one.add_argument("--source", default="", help="where the figures come from, e.g. 派出所通报")
    one.set_defaults(func=cmd_baseline_set)
    many = baseline_sub.add_parser(
        "import", help="import a CSV with the headers 范围,开始日期,结束日期,案件数,损失金额（元）,来源")
    many.add_argument("file", type=Path)
    many.set_defaults(func=cmd_baseline_import)
    baseline_sub.add_parser("list", help="print every baseline").set_defaults(func=cmd_baseline_list)

    audit = sub.add_parser("audit", help="print the audit log (newest first)")
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--action", default=None, help="only this action, e.g. export.ledger or report.view")
    audit.add_argument("--refused", action="store_const", const="refused", dest="action",
                       help="only refused attempts at office or class-leader functions")
    audit.set_defaults(func=cmd_audit)


async def cmd_export_ledger(args, config) -> int:
    """Write the ledger file and record the export in the audit log."""
    from bot.cli import opened_app
    from handlers.figures import Period
    from handlers.ledger import export_ledger

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
                                             period, args.college, args.format, args.lang, args.maker)
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
    from handlers.weekly_report import FontMissing, weekly_png

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


async def cmd_baseline_set(args, config) -> int:
    """Store one baseline typed on the command line."""
    from bot.cli import opened_app
    from handlers.baselines import make_baseline

    async with opened_app(config) as app:
        colleges = set(await app.store.classes.colleges())
        problem, item = make_baseline(args.college, args.first, args.last, args.cases, args.money, args.source,
                                      colleges)
        if problem:
            print(f"baseline: {problem}", file=sys.stderr)       # the Problem reads as an English sentence
            return 2
        new = await app.store.baselines.set(item)
        await app.store.audit.write("baseline.set", item.college or "school", detail={
            "first": item.first_day, "last": item.last_day, "cases": item.cases, "money": item.money_yuan})
    print(f"baseline {'added' if new else 'replaced'}: {_baseline_line(item)}")
    return 0


async def cmd_baseline_import(args, config) -> int:
    """Import a baseline CSV: good rows are saved, bad rows are listed with their line."""
    from bot.cli import opened_app
    from handlers.baselines import parse_baselines

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        print(f"baseline: {args.file}: file not found", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"baseline: {args.file}: not UTF-8 text (save the sheet as CSV UTF-8)", file=sys.stderr)
        return 1
    async with opened_app(config) as app:
        good, rejected = parse_baselines(text, set(await app.store.classes.colleges()))
        added = sum([await app.store.baselines.set(item) for item in good])
        await app.store.audit.write("baseline.import", str(args.file), detail={
            "rows": len(good), "rejected": len(rejected)})
    for item in rejected:
        print(f"{args.file}: line {item.line}: {item.reason}")
    print(f"baseline: {added} added, {len(good) - added} replaced, {len(rejected)} rejected")
    return 1 if rejected else 0


async def cmd_baseline_list(args, config) -> int:
    """Print every baseline."""
    from bot.cli import opened_app

    async with opened_app(config) as app:
        items = await app.store.baselines.all()
    if not items:
        print("no baselines yet: wuzha baseline set ... or wuzha baseline import FILE")
    for item in items:
        print(_baseline_line(item))
    return 0


def _baseline_line(item) -> str:
    """One baseline as a line: scope, days, cases, money, source."""
    return (f"{item.college or '全校'}  {item.first_day}..{item.last_day}  cases {item.cases}"
            f"  money ¥{item.money_yuan:,}  {item.source}").rstrip()
