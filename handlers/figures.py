"""The security office's figures for a scope and a period, with the previous period and the same period last year.

A period is a run of local days, inclusive. The previous period is the same number of days just before;
"last year" is the same calendar days one year earlier (29 February becomes the 28th). The "double
decrease" (双降) is judged against last year: fewer cases AND less money reported lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.clock import iso
from storage.stats import Population, ReportFigures, Scope

PERIOD_DAYS = {"week": 7, "周": 7, "本周": 7, "month": 30, "月": 30, "本月": 30, "term": 120, "学期": 120,
               "year": 365, "年": 365}
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|～|至|到|—|-)\s*(\d{4}-\d{1,2}-\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Period:
    """Local days first..last, inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """How many days it spans."""
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The same number of days just before."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def last_year(self) -> Period:
        """The same calendar days a year earlier."""
        return Period(_year_back(self.first), _year_back(self.last))

    def bounds(self, tz) -> tuple[str, str]:
        """[since, until) as stored UTC texts: local midnight of the first day to that after the last."""
        start = datetime.combine(self.first, time(), tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time(), tzinfo=tz)
        return iso(start), iso(end)

    def label(self) -> str:
        """'2026-10-25..2026-11-23'."""
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:          # 29 February
        return day.replace(year=day.year - 1, day=28)


def parse_period(token: str, today: date) -> Period | None:
    """A period from 'week', 'month', 'term', '2026-11', '2026-09-01..2026-11-23' (or None if not one)."""
    token = token.strip().lower()
    if token in PERIOD_DAYS:
        return Period(today - timedelta(days=PERIOD_DAYS[token] - 1), today)
    if m := _RANGE.match(token):
        try:
            first, last = (date.fromisoformat(_pad(g)) for g in m.groups())
        except ValueError:
            return None
        return Period(first, last) if first <= last else None
    if m := _MONTH.match(token):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            return None
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return Period(first, min(following - timedelta(days=1), today) if first <= today else
                      following - timedelta(days=1))
    return None


def _pad(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def default_period(today: date) -> Period:
    """The last 30 days."""
    return Period(today - timedelta(days=29), today)


@dataclass
class Figures:
    """Everything /stats shows for one scope and period."""

    scope: Scope
    period: Period
    population: Population
    checkin_days: int
    quiz_average: float | None
    quizzes: int
    reports: ReportFigures
    drill_people: int
    drill_runs: int
    drill_passed: int
    previous: ReportFigures
    last_year: ReportFigures

    def rate(self, part: int, whole: int | None = None) -> float:
        """part as a percentage of the people (or of whole)."""
        whole = self.population.people if whole is None else whole
        return 100.0 * part / whole if whole else 0.0

    @property
    def checkin_rate(self) -> float:
        """Person-days checked in over bound people x days, as a percentage."""
        return self.rate(self.checkin_days, self.population.bound * self.period.days)

    @property
    def drill_pass_rate(self) -> float:
        """Runs passed over runs finished in the period."""
        return self.rate(self.drill_passed, self.drill_runs)

    @property
    def cases_down(self) -> bool:
        """Fewer cases than the same period last year."""
        return self.reports.count < self.last_year.count

    @property
    def money_down(self) -> bool:
        """Less money reported lost than the same period last year."""
        return self.reports.money < self.last_year.money

    @property
    def double_decrease(self) -> bool:
        """Both down against last year (双降)."""
        return self.cases_down and self.money_down


async def compute_figures(store, config, pledge_version: int, scope: Scope, period: Period) -> Figures:
    """Compute the figures of a scope over a period, with the comparisons."""
    tz = config.tz
    since, until = period.bounds(tz)
    stats = store.stats
    population = await stats.population(scope, pledge_version, until)
    checkin_days = await stats.checkin_person_days(scope, period.first.isoformat(), period.last.isoformat())
    average, quizzes = await stats.quiz_average(scope, since, until)
    reports = await stats.reports(scope, since, until)
    drill_people, drill_runs, drill_passed = await stats.drills(scope, since, until)
    previous = await stats.reports(scope, *period.previous().bounds(tz))
    last_year = await stats.reports(scope, *period.last_year().bounds(tz))
    return Figures(scope, period, population, checkin_days, average, quizzes, reports, drill_people, drill_runs,
                   drill_passed, previous, last_year)
