"""Baselines (last year's police figures): a CSV with Chinese or English headers, or /baseline in any office chat."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from bot.context import Context
from bot.events import Incoming, Outgoing, text
from handlers.amounts import parse_amount
from storage.baselines import Baseline

# Each column's accepted headers: the Chinese ones the template uses, and English ones.
COLUMNS = {
    "college": ("范围", "学院", "college", "scope"),
    "first": ("开始日期", "起始日期", "first", "from"),
    "last": ("结束日期", "截止日期", "last", "to"),
    "cases": ("案件数", "案件数量", "cases"),
    "money": ("损失金额（元）", "损失金额(元)", "损失金额", "money", "money_yuan"),
    "source": ("来源", "数据来源", "source"),
}
SCHOOL_WORDS = ("", "全校", "学校", "school", "whole school")
TEMPLATE_HEADERS = ["范围", "开始日期", "结束日期", "案件数", "损失金额（元）", "来源"]


@dataclass(frozen=True)
class Rejected:
    """A CSV line that was not imported, and why."""

    line: int
    reason: str


def parse_baselines(text: str, colleges: set[str]) -> tuple[list[Baseline], list[Rejected]]:
    """The good rows of a baseline CSV and the bad ones with their line numbers; nothing is half-read."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        return [], [Rejected(1, "the file is empty")]
    names = [cell.strip().lower() for cell in header]
    where = {}
    for key, accepted in COLUMNS.items():
        hits = [i for i, name in enumerate(names) if name in {a.lower() for a in accepted}]
        if hits:
            where[key] = hits[0]
    missing = [COLUMNS[k][0] for k in ("first", "last", "cases", "money") if k not in where]
    if missing:
        return [], [Rejected(1, f"missing column(s): {', '.join(missing)} (expected {', '.join(TEMPLATE_HEADERS)})")]
    good: list[Baseline] = []
    bad: list[Rejected] = []
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        values = {key: row[i].strip() if i < len(row) else "" for key, i in where.items()}
        problem, item = _row(lambda key, values=values: values.get(key, ""), colleges)
        if problem:
            bad.append(Rejected(line, str(problem)))
        else:
            good.append(item)
    return good, bad


def make_baseline(college: str, first: str, last: str, cases: str, money: str, source: str,
                  colleges: set[str]) -> tuple[Problem | None, Baseline | None]:
    """(problem, None) or (None, baseline) from the typed values of one baseline."""
    values = {"college": college, "first": first, "last": last, "cases": cases, "money": money, "source": source}
    return _row(lambda key: values[key].strip(), colleges)


# Why a row was refused, for the command line (the chat says it through content/ui: baseline.problem_<code>).
PROBLEMS = {
    "college": "no college {value!r} in the roster",
    "dates": "dates must look like 2025-09-01, got {value!r}",
    "order": "{value} is after {other}",
    "cases": "cases must be a whole number 0 or more, got {value!r}",
    "money": "money must be an amount in yuan 0 or more, got {value!r}",
}


@dataclass(frozen=True)
class Problem:
    """What is wrong with one baseline: a code and the value at fault."""

    code: str
    value: str
    other: str = ""

    def __str__(self) -> str:
        return PROBLEMS[self.code].format(value=self.value, other=self.other)


def _row(cell, colleges: set[str]) -> tuple[Problem | None, Baseline | None]:
    college = cell("college")
    if college.lower() in SCHOOL_WORDS:
        college = ""
    elif college not in colleges:
        return Problem("college", college), None
    try:
        first = date.fromisoformat(cell("first"))
    except ValueError:
        return Problem("dates", cell("first")), None
    try:
        last = date.fromisoformat(cell("last"))
    except ValueError:
        return Problem("dates", cell("last")), None
    if first > last:
        return Problem("order", first.isoformat(), last.isoformat()), None
    cases = cell("cases").replace(",", "")
    if not cases.isdigit():
        return Problem("cases", cell("cases")), None
    money = parse_amount(cell("money")) if cell("money") else None
    if money is None or not money.ok:
        return Problem("money", cell("money")), None
    return None, Baseline(college, first.isoformat(), last.isoformat(), int(cases), money.yuan, cell("source")[:200])


async def baseline_command(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/baseline lists the baselines; /baseline <全校|学院> <from>..<to> <cases> <money> [source] enters one."""
    words = msg.payload.split()
    if not words:
        items = await ctx.store.baselines.all()
        if not items:
            return [text(ctx.t("baseline.none"))]
        return [text("\n".join([ctx.t("baseline.list_title"), *(ctx.t(
            "baseline.line", scope=b.college or ctx.t("stats.school"), first=b.first_day, last=b.last_day,
            cases=b.cases, money=f"{b.money_yuan:,}", source=b.source or "-") for b in items)]))]
    if len(words) < 4 or ".." not in words[1]:
        return [text(ctx.t("baseline.usage"))]
    first, _, last = words[1].partition("..")
    problem, item = make_baseline(words[0], first, last, words[2], words[3], " ".join(words[4:]),
                                  set(await ctx.store.classes.colleges()))
    if problem:
        return [text(ctx.t(f"baseline.problem_{problem.code}", value=problem.value[:40], other=problem.other)),
                text(ctx.t("baseline.usage"))]
    new = await ctx.store.baselines.set(item)
    await ctx.audit("baseline.set", item.college or "school", first=item.first_day, last=item.last_day,
                    cases=item.cases, money=item.money_yuan, via="chat")
    return [text(ctx.t("baseline.saved" if new else "baseline.replaced", scope=item.college or ctx.t("stats.school"),
                       first=item.first_day, last=item.last_day, cases=item.cases, money=f"{item.money_yuan:,}"))]
