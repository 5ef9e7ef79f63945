"""The campaign calendar (content/campaigns.toml): who is pushed what, and when in the year."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.library.model import AUDIENCES, LANGS, Localized

FILE = "campaigns.toml"
KINDS = ("warning", "quiz", "letter")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Window:
    """A yearly date window, 'MM-DD' to 'MM-DD' inclusive; it may wrap over the new year."""

    start: str
    end: str

    def start_date(self, today: date) -> date | None:
        """The date this window opened if today is inside it, else None."""
        for year in (today.year, today.year - 1):
            begin = _month_day(self.start, year)
            finish = _month_day(self.end, year if self.end >= self.start else year + 1)
            if begin <= today <= finish:
                return begin
        return None


@dataclass(frozen=True)
class Campaign:
    """Extra pushes for an audience in a date window."""

    id: str
    kind: str                       # warning, quiz or letter
    audience: tuple[str, ...]       # tags, or "all"
    windows: tuple[Window, ...]
    types: tuple[str, ...]          # fraud types the warnings and quizzes draw on
    title: Localized
    intro: Localized
    letter: Localized | None = None

    def matches(self, tags: set[str]) -> bool:
        """Whether a person with these tags is in the audience ("student": anyone not tagged staff)."""
        groups = tags if "staff" in tags else tags | {"student"}
        return "all" in self.audience or bool(groups & set(self.audience))

    def active_since(self, today: date) -> date | None:
        """The start of the window today falls in, or None."""
        for window in self.windows:
            started = window.start_date(today)
            if started is not None:
                return started
        return None


@dataclass
class Calendar:
    """Every campaign, and which fraud types each tag is most exposed to."""

    campaigns: list[Campaign] = field(default_factory=list)
    exposure: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def active(self, today: date) -> list[tuple[Campaign, date]]:
        """(campaign, window start) of the campaigns running today."""
        found = []
        for campaign in self.campaigns:
            started = campaign.active_since(today)
            if started is not None:
                found.append((campaign, started))
        return found

    def letter(self, today: date) -> Campaign | None:
        """The letter to families: the running one, else the one whose window began most recently."""
        letters = [c for c in self.campaigns if c.kind == "letter"]
        if not letters:
            return None

        def last_start(campaign: Campaign) -> date:
            for back in range(0, 367):
                day = today - timedelta(days=back)
                if any(_month_day(w.start, day.year) == day for w in campaign.windows):
                    return day
            return date.min

        return max(letters, key=last_start)


def _month_day(value: str, year: int) -> date:
    month, day = int(value[:2]), int(value[3:])
    if month == 2 and day == 29:
        day = 28  # a window written for leap years still opens every year
    return date(year, month, day)


def load_calendar(folder: Path, problems, types: dict) -> Calendar:
    """Read and check campaigns.toml (the EXTRA_SECTIONS loader); problems name file, entry, field."""
    from bot.library.loader import read_toml

    path = Path(folder) / FILE
    if not path.exists():
        return Calendar()
    data = read_toml(path, FILE, problems)
    if data is None:
        return Calendar()
    calendar = Calendar(exposure=_exposure(data.get("exposure", {}), problems, types))
    seen: set[str] = set()
    raw_list = data.get("campaign", [])
    if not isinstance(raw_list, list):
        problems.add(FILE, "campaign", "-", "must be an array of tables ([[campaign]])")
        return calendar
    for index, raw in enumerate(raw_list):
        campaign = _campaign(raw, index, problems, types, seen)
        if campaign is not None:
            calendar.campaigns.append(campaign)
    return calendar


def _exposure(raw, problems, types: dict) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        problems.add(FILE, "exposure", "-", "must be a table of tag = [type ids]")
        return {}
    exposure = {}
    for tag, ids in raw.items():
        if tag not in AUDIENCES and tag != "student":
            problems.add(FILE, "exposure", tag, f"unknown tag (one of {', '.join(AUDIENCES)}, student)")
            continue
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            problems.add(FILE, "exposure", tag, "must be a list of fraud type ids")
            continue
        for type_id in ids:
            if type_id not in types:
                problems.add(FILE, "exposure", tag, f"unknown fraud type {type_id!r}")
        exposure[tag] = tuple(i for i in ids if i in types)
    return exposure


def _campaign(raw, index: int, problems, types: dict, seen: set[str]) -> Campaign | None:
    if not isinstance(raw, dict):
        problems.add(FILE, f"campaign #{index + 1}", "-", "must be a table")
        return None
    entry = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else f"campaign #{index + 1}"
    before = len(problems.lines)

    def fail(fld: str, message: str) -> None:
        problems.add(FILE, entry, fld, message)

    if "id" not in raw:
        fail("id", "missing")
    elif entry in seen:
        fail("id", "used twice")
    seen.add(entry)
    kind = raw.get("kind")
    if kind not in KINDS:
        fail("kind", f"must be one of {', '.join(KINDS)}")
    audience = raw.get("audience")
    if not isinstance(audience, list) or not audience or any(a not in (*AUDIENCES, "student") for a in audience):
        fail("audience", f"must be a non-empty list of: {', '.join(AUDIENCES)}, student")
        audience = []
    windows = []
    raw_windows = raw.get("windows")
    if not isinstance(raw_windows, list) or not raw_windows:
        fail("windows", 'must be a list of ["MM-DD", "MM-DD"] pairs')
    else:
        for i, pair in enumerate(raw_windows):
            if (not isinstance(pair, list) or len(pair) != 2
                    or not all(isinstance(p, str) and _valid_month_day(p) for p in pair)):
                fail(f"windows[{i}]", 'must be ["MM-DD", "MM-DD"] with real dates')
                continue
            windows.append(Window(pair[0], pair[1]))
    type_ids = raw.get("types", [])
    if not isinstance(type_ids, list) or any(t not in types for t in type_ids):
        fail("types", "must be a list of fraud type ids from the taxonomy")
        type_ids = []
    if kind in ("warning", "quiz") and not type_ids:
        fail("types", f"a {kind} campaign needs at least one fraud type")
    texts: dict[str, dict] = {}
    for lang in LANGS:
        table = raw.get(lang)
        if not isinstance(table, dict):
            fail(lang, "missing")
            continue
        wanted = ("title", "intro", "letter") if kind == "letter" else ("title", "intro")
        for key in wanted:
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                fail(f"{lang}.{key}", "missing or empty text")
        texts[lang] = table
    if len(problems.lines) > before:
        return None

    def localized(key: str) -> Localized:
        return Localized(texts["zh"][key].strip(), texts["en"][key].strip())

    return Campaign(
        id=entry, kind=kind, audience=tuple(audience), windows=tuple(windows), types=tuple(type_ids),
        title=localized("title"), intro=localized("intro"),
        letter=localized("letter") if kind == "letter" else None,
    )


def _valid_month_day(value: str) -> bool:
    match = _MONTH_DAY.match(value)
    if not match:
        return False
    try:
        date(2024, int(match.group(1)), int(match.group(2)))
    except ValueError:
        return False
    return True


def calendar_of(library) -> Calendar:
    """The library's campaign calendar (empty when it has none)."""
    return library.extra.get("campaigns") or Calendar()
