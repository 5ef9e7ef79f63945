"""The roster page: a CSV or XLSX upload checked line by line, shown, then imported as `wuzha roster import` does.

From the console a roster never grants or takes away the security or admin role: those are given by
invite or config [roles], so an admin's upload cannot make anyone (themselves included) a case reader.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from bot.context import Context
from bot.events import Incoming, Kind
from bot.roster import Rejected, parse_roster
from handlers import identity
from storage.people import RosterRow

PRIVILEGED = ("security", "admin")
MAX_BYTES = 8 * 1024 * 1024
IMPORT_CHUNK = 500
PREVIEW_ROWS = 200


def xlsx_to_csv(data: bytes) -> bytes:
    """The first sheet of a workbook as UTF-8 CSV."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        writer.writerow(["" if v is None else str(v) for v in row])
    workbook.close()
    return out.getvalue().encode("utf-8")


def read_upload(filename: str, data: bytes) -> tuple[list[tuple[int, RosterRow]], list[Rejected]]:
    """Check every line of an uploaded CSV (UTF-8 or GBK) or XLSX with the CLI's own parser."""
    if len(data) > MAX_BYTES:
        return [], [Rejected(1, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", "too_big",
                             {"mb": MAX_BYTES // (1024 * 1024)})]
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        try:
            data = xlsx_to_csv(data)
        except Exception as exc:          # a damaged or fake workbook: say so, import nothing
            return [], [Rejected(1, f"not a readable XLSX workbook ({type(exc).__name__})", "bad_xlsx")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_bytes(data)
        try:
            return parse_roster(path)
        except (UnicodeDecodeError, csv.Error) as exc:
            return [], [Rejected(1, f"not a readable CSV file ({type(exc).__name__})", "bad_csv")]


async def check_upload(ctx: Context, filename: str, data: bytes) -> tuple[list[tuple[int, RosterRow]], list[Rejected]]:
    """The accepted and rejected lines; rows about privileged roles are refused here."""
    good, rejected = read_upload(filename, data)
    privileged = await ctx.store.console.privileged_numbers(PRIVILEGED)
    accepted = []
    for line, row in good:
        if row.role in PRIVILEGED or row.person_no in privileged:
            rejected.append(Rejected(line, "security and admin roles are given by invite or config [roles], "
                                           "not by a roster upload", "privileged"))
        else:
            accepted.append((line, row))
    rejected.sort(key=lambda r: r.line)
    return accepted, rejected


def reasons(ctx: Context, rejected: list[Rejected]) -> list[tuple[int, str]]:
    """Each rejected line with its reason in the page's language."""
    return [(r.line, ctx.t(f"roster.reject_{r.key}", **r.values) if r.key else r.reason) for r in rejected]


async def invite(ctx: Context, number: str) -> str:
    """A personal invite made by /invite's own code (audited there); its answer, the code included."""
    msg = Incoming("console", "", "", Kind.COMMAND, number[:30], command="invite")
    return "\n".join(reply.text for reply in await identity.invite_command(msg, ctx) if reply.text)


async def import_rows(ctx: Context, rows: list[RosterRow]) -> tuple[int, int]:
    """Insert or update the accepted rows in chunks, like the CLI; audited."""
    inserted = updated = 0
    for start in range(0, len(rows), IMPORT_CHUNK):
        added, changed = await ctx.store.people.upsert_roster(rows[start:start + IMPORT_CHUNK])
        inserted, updated = inserted + added, updated + changed
    await ctx.audit("roster.import", "console", added=inserted, updated=updated)
    return inserted, updated
