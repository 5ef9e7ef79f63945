"""The security office's figures for a scope and a period, with the previous period and the same period last year.

A period is a run of local days, inclusive. The previous period is the same number of days just before;
"last year" is the same calendar days one year earlier (29 February becomes the 28th). The "double
decrease" (双降) is judged against last year: fewer cases AND less money reported lost; nothing in either
year is 持平 (no cases), never a failure. For a last-year period older than the database's records, the
office's baselines (police figures, `wuzha baseline`) stand in, said so beside the figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.clock import iso, parse_iso
from storage.stats import Population, ReportFigures, Scope

# Rolling windows ending today (kept for those who type them); the calendar words are in _calendar_period.
PERIOD_DAYS = {"week": 7, "周": 7, "7d": 7, "month": 30, "月": 30, "30d": 30, "year": 365, "年": 365}
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|~|～|至|到|—|-)\s*(\d{4}-\d{1,2}-\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WORDS = {
    "本周": "this-week", "这周": "this-week", "上周": "last-week", "本月": "this-month", "这个月": "this-month",
    "上月": "last-month", "上个月": "last-month", "本学期": "this-term", "这学期": "this-term", "学期": "this-term",
    "term": "this-term", "semester": "this-term", "上学期": "last-term", "今年": "this-year", "去年": "last-year",
}


def period_words(payload: str) -> str:
    """'this term' → 'this-term' so that two English words read as one period token."""
    return re.sub(r"\b(this|last)[\s_]+(week|month|term|semester|year)\b", r"\1-\2", payload, flags=re.I)


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


def parse_period(token: str, today: date, terms: list[tuple[str, date, date]] = ()) -> Period | None:
    """A period from 'week', '本月', '上学期', 'last-year', a term's name, '2026-11', 'a..b' (None if not one)."""
    token = token.strip().lower()
    if token in PERIOD_DAYS:
        return Period(today - timedelta(days=PERIOD_DAYS[token] - 1), today)
    word = _WORDS.get(token, token).replace("semester", "term")
    if word in ("this-week", "last-week", "this-month", "last-month", "this-year", "last-year"):
        return _calendar_period(word, today)
    if word in ("this-term", "last-term"):
        return _term_period(word, today, terms)
    for name, first, last in terms:
        if token == name.lower():
            return Period(first, last)
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


def _calendar_period(word: str, today: date) -> Period:
    """This week/month/year up to today, or the whole of the last one."""
    if word == "this-week":
        return Period(today - timedelta(days=today.weekday()), today)
    if word == "last-week":
        monday = today - timedelta(days=today.weekday() + 7)
        return Period(monday, monday + timedelta(days=6))
    if word == "this-month":
        return Period(today.replace(day=1), today)
    if word == "last-month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    if word == "this-year":
        return Period(date(today.year, 1, 1), today)
    return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))


def _term_period(word: str, today: date, terms) -> Period | None:
    """The configured term around today (up to today), or the one before it; None when terms do not say."""
    started = [term for term in terms if term[1] <= today]
    if not started:
        return None
    current = started[-1]
    if word == "this-term":
        if current[2] < today:
            return None            # between terms: there is no "this term"
        return Period(current[1], today)
    before = started[-1] if current[2] < today else (started[-2] if len(started) > 1 else None)
    return Period(before[1], before[2]) if before else None


def _pad(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def default_period(today: date) -> Period:
    """The last 30 days."""
    return Period(today - timedelta(days=29), today)


@dataclass(frozen=True)
class BaselineUse:
    """Where last year's figures came from when the database had none: the office's baselines."""

    sources: str            # what the office wrote as the source, e.g. '派出所通报'
    spans: str              # the baselines' periods
    prorated: bool          # a baseline counted only for the share of its days inside the period
    covered_days: int
    days: int


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
    baseline: BaselineUse | None = None     # set when last year's figures are the office's baselines

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

    @property
    def verdict(self) -> str:
        """The 双降 line's outcome: 'yes', 'none' (no cases either year), 'flat' (both the same) or 'no'."""
        if self.double_decrease:
            return "yes"
        if self.reports.count == self.last_year.count == 0:
            return "none"
        if self.reports.count == self.last_year.count and self.reports.money == self.last_year.money:
            return "flat"
        return "no"


def trend(now: int, before: int) -> str:
    """'down', 'same' or 'up'."""
    return "down" if now < before else "same" if now == before else "up"


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
    used = None
    begin = await stats.records_begin()
    if (scope.class_id is None and last_year.count == 0 and begin
            and period.last_year().last < parse_iso(begin).astimezone(tz).date()):
        found = await baseline_figures(store, scope.college, period.last_year())
        if found is not None:
            last_year, used = found
    return Figures(scope, period, population, checkin_days, average, quizzes, reports, drill_people, drill_runs,
                   drill_passed, previous, last_year, used)


async def baseline_figures(store, college: str, period: Period) -> tuple[ReportFigures, BaselineUse] | None:
    """The office's baselines for a period, each counted by the share of its days inside it; None if none."""
    items = await store.baselines.overlapping(college, period.first.isoformat(), period.last.isoformat())
    if not items:
        return None
    cases = money = 0.0
    covered = 0
    prorated = False
    for item in items:
        first, last = date.fromisoformat(item.first_day), date.fromisoformat(item.last_day)
        inside = (min(last, period.last) - max(first, period.first)).days + 1
        share = inside / ((last - first).days + 1)
        prorated = prorated or share < 1
        cases += item.cases * share
        money += item.money_yuan * share
        covered += inside
    figures = ReportFigures()
    figures.count, figures.money = round(cases), round(money)
    sources = "、".join(sorted({item.source for item in items if item.source})) or "-"
    spans = ", ".join(f"{item.first_day}..{item.last_day}" for item in items)
    return figures, BaselineUse(sources, spans, prorated, min(covered, period.days), period.days)
