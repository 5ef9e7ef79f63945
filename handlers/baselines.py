"""Baselines from a CSV file the office fills in from police figures (Chinese or English headers)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

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
            bad.append(Rejected(line, problem))
        else:
            good.append(item)
    return good, bad


def make_baseline(college: str, first: str, last: str, cases: str, money: str, source: str,
                  colleges: set[str]) -> tuple[str | None, Baseline | None]:
    """(problem, None) or (None, baseline) from the typed values of one baseline."""
    values = {"college": college, "first": first, "last": last, "cases": cases, "money": money, "source": source}
    return _row(lambda key: values[key].strip(), colleges)


def _row(cell, colleges: set[str]) -> tuple[str | None, Baseline | None]:
    college = cell("college")
    if college.lower() in SCHOOL_WORDS:
        college = ""
    elif college not in colleges:
        return f"no college {college!r} in the roster", None
    try:
        first, last = date.fromisoformat(cell("first")), date.fromisoformat(cell("last"))
    except ValueError:
        return f"dates must look like 2025-09-01, got {cell('first')!r} and {cell('last')!r}", None
    if first > last:
        return f"{first} is after {last}", None
    cases = cell("cases").replace(",", "")
    if not cases.isdigit():
        return f"cases must be a whole number 0 or more, got {cell('cases')!r}", None
    money = parse_amount(cell("money")) if cell("money") else None
    if money is None or not money.ok:
        return f"money must be an amount in yuan 0 or more, got {cell('money')!r}", None
    return None, Baseline(college, first.isoformat(), last.isoformat(), int(cases), money.yuan, cell("source")[:200])
