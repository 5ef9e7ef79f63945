"""The weekly report picture: this week so far (cases, money, open and unacknowledged cases, 双降), the classes
lagging most, coverage per college, reports and money lost per week against last year, top types.

The weeks run up to the moment the picture is made: the last point is the current week so far.

Rendered with matplotlib's object API (no pyplot, no display) in a worker thread. Chinese labels need a
CJK font: the one the mplfonts package installs (Noto Sans CJK SC, pulled in by pyproject.toml), else a
font dropped into content/fonts/, else one the system has (fonts-noto-cjk, fonts-wqy-microhei). Without
any, find_cjk_font() raises rather than drawing tofu boxes.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.clock import iso, local_day, parse_iso
from bot.events import Outgoing

SYSTEM_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                     "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei")
PACKAGED_FONT = "NotoSansCJKsc-Regular.otf"
WIDTH_IN, DPI = 7.2, 150       # 1080 px wide: sharp on a phone, small enough to send
TOP_TYPES = 8
LAGGING = 5                   # classes named per lagging item


class FontMissing(RuntimeError):
    """No font with Chinese glyphs could be found."""


def find_cjk_font(content_dir: Path | None = None) -> Path:
    """The path of a font file with Chinese glyphs: packaged, shipped in content/fonts, or the system's."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "fonts" / PACKAGED_FONT
            if candidate.exists():
                return candidate
    if content_dir is not None:
        for pattern in ("*.otf", "*.ttf", "*.ttc"):
            found = sorted((content_dir / "fonts").glob(pattern))
            if found:
                return found[0]
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if entry.name in SYSTEM_FONT_NAMES:
            return Path(entry.fname)
    raise FontMissing("no CJK font: pip install mplfonts, or put a .otf/.ttf with Chinese glyphs in content/fonts/")


@dataclass
class WeeklyData:
    """Everything the picture shows."""

    title: str
    subtitle: str
    colleges: list[tuple[str, float, float]]                # name, awareness %, pledge %
    weeks: list[str]                                        # labels of the week starts, 'MM-DD'
    reports: list[int]
    reports_last_year: list[int]
    money: list[int]
    money_last_year: list[int]
    top_types: list[tuple[str, int]]
    labels: dict[str, str] = field(default_factory=dict)
    this_week: list[str] = field(default_factory=list)      # the 本周 block, one line each
    lagging: list[str] = field(default_factory=list)        # the classes furthest behind, one line each
    week_missed: bool = False                               # this week is not a 双降 (its line is red)


def week_start(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


async def collect(store, config, library, translate, lang: str = "zh", today: date | None = None) -> WeeklyData:
    """Read the figures for the picture: office.report_weeks weeks up to now, the last one this week so far."""
    from handlers.figures import Period, compute_figures
    from storage.stats import Scope

    tz = config.tz
    today = today or date.fromisoformat(local_day(store.clock.now(), tz))
    weeks = config.office.report_weeks
    end = week_start(today) + timedelta(weeks=1)    # the current week counts, up to the moment of the picture
    start = end - timedelta(weeks=weeks)
    last_year_shift = timedelta(weeks=52)        # same weekdays a year back

    def bound(day: date) -> str:
        return iso(datetime.combine(day, time(), tzinfo=tz))

    def per_week(rows, first: date) -> tuple[list[int], list[int]]:
        counts, money = [0] * weeks, [0] * weeks
        for submitted, amount in rows:
            local = parse_iso(submitted).astimezone(tz).date()
            index = (local - first).days // 7
            if 0 <= index < weeks:
                counts[index] += 1
                money[index] += int(amount)
        return counts, money

    this_year = await store.stats.report_times(bound(start), bound(end))
    # Last year only as far into its week as we are now, so the last point compares like with like.
    last_year_until = bound(today + timedelta(days=1) - last_year_shift)
    last_year = await store.stats.report_times(bound(start - last_year_shift), last_year_until)
    reports, money = per_week(this_year, start)
    reports_ly, money_ly = per_week(last_year, start - last_year_shift)
    figures = await store.stats.reports(_school(), bound(start), bound(end))
    colleges = [(name, 100.0 * passed / people if people else 0.0, 100.0 * pledged / people if people else 0.0)
                for name, people, pledged, passed in await store.stats.per_college(library.pledge.version)]
    t = lambda key, **v: translate(f"weekly.{key}", lang, **v)  # noqa: E731
    school = config.general.school_name_zh if lang == "zh" else config.general.school_name_en

    def type_name(type_id: str) -> str:
        return library.types[type_id].name.get(lang) if type_id in library.types else type_id

    week = await compute_figures(store, config, library.pledge.version, Scope(), Period(week_start(today), today))
    open_cases, unacknowledged = await store.stats.open_cases()
    verdict = t(f"verdict_{week.verdict}")
    this_week = [
        t("week_cases", first=week_start(today).strftime("%m-%d"), last=today.strftime("%m-%d"),
          n=week.reports.count, urgent=week.reports.urgent, money=f"{week.reports.money:,}"),
        t("week_open", open=open_cases, unacknowledged=unacknowledged),
        t("week_double", before=week.last_year.count, now=week.reports.count,
          money_before=f"{week.last_year.money:,}", money_now=f"{week.reports.money:,}", verdict=verdict),
    ]
    lagging = await _lagging(store, library, today, tz, t)
    return WeeklyData(
        title=t("title", school=school, day=today.isoformat()),
        subtitle=t("subtitle", first=start.isoformat(), last=today.isoformat(),
                   reports=sum(reports), reports_ly=sum(reports_ly), money=f"{sum(money):,}",
                   money_ly=f"{sum(money_ly):,}"),
        colleges=colleges,
        weeks=[(start + timedelta(weeks=i)).strftime("%m-%d") for i in range(weeks)],
        reports=reports, reports_last_year=reports_ly, money=money, money_last_year=money_ly,
        top_types=[(type_name(k), v) for k, v in figures.by_type[:TOP_TYPES]],
        labels={key: t(key) for key in ("coverage", "awareness", "pledge", "reports", "money", "this_year",
                                        "last_year", "top_types", "week_of", "none", "yuan", "this_week")},
        this_week=this_week, lagging=lagging, week_missed=week.verdict == "no",
    )


async def _lagging(store, library, today: date, tz, t) -> list[str]:
    """The classes furthest behind on the pledge and on the awareness test (at most LAGGING of each)."""
    until = iso(datetime.combine(today + timedelta(days=1), time(), tzinfo=tz))
    rows = [r for r in await store.stats.per_class(library.pledge.version, until, today.isoformat(),
                                                   today.isoformat(), until) if r["people"]]
    lines = []
    for key, label in (("pledged", "lag_pledge"), ("passed", "lag_awareness")):
        worst = sorted(rows, key=lambda r: (r[key] / r["people"], r["name"]))[:LAGGING]
        if worst:
            names = "、".join(f"{r['name']} {100 * r[key] / r['people']:.0f}%" for r in worst)
            lines.append(f"{t('lagging')} · {t(label, classes=names)}")
    return lines


def _school():
    from storage.stats import Scope

    return Scope()


def render(data: WeeklyData, font_path: Path) -> bytes:
    """Draw the picture and return PNG bytes."""
    import io

    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font_manager.fontManager.addfont(str(font_path))
    family = font_manager.FontProperties(fname=str(font_path)).get_name()
    rc = {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False, "font.size": 11}
    import matplotlib

    with matplotlib.rc_context(rc):
        n_colleges = max(1, len(data.colleges))
        block = [*data.this_week, *data.lagging]
        heights = [0.3 * len(block) + 0.6, max(2.2, 0.3 * n_colleges + 0.8), 2.8, 2.8,
                   max(1.8, 0.35 * max(1, len(data.top_types)) + 0.8)]
        fig = Figure(figsize=(WIDTH_IN, sum(heights) + 1.6), dpi=DPI)
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(5, 1, height_ratios=heights, hspace=0.55, top=1 - 1.25 / (sum(heights) + 1.6),
                                bottom=0.35 / (sum(heights) + 1.6), left=0.27, right=0.94)
        fig.suptitle(data.title, fontsize=17, y=1 - 0.25 / (sum(heights) + 1.6))
        fig.text(0.5, 1 - 0.85 / (sum(heights) + 1.6), data.subtitle, ha="center", fontsize=10, color="#444")
        labels = data.labels

        ax = fig.add_subplot(grid[0])
        ax.set_axis_off()
        ax.set_title(labels["this_week"], loc="left", fontsize=13)
        for n, line in enumerate(block):
            ax.text(-0.33, 1 - (n + 0.5) / max(1, len(block)), line, transform=ax.transAxes, fontsize=10,
                    va="center", color="#B71C1C" if n == len(data.this_week) - 1 and data.week_missed else "#222")

        ax = fig.add_subplot(grid[1])
        ax.set_title(labels["coverage"], loc="left", fontsize=13)
        if data.colleges:
            names = [c[0] for c in data.colleges]
            ys = list(range(len(names)))
            ax.barh([y + 0.2 for y in ys], [c[1] for c in data.colleges], height=0.4, color="#2E7D32",
                    label=labels["awareness"])
            ax.barh([y - 0.2 for y in ys], [c[2] for c in data.colleges], height=0.4, color="#1565C0",
                    label=labels["pledge"])
            ax.set_yticks(ys, [_wrap(n) for n in names])
            ax.invert_yaxis()
            ax.set_xlim(0, 112)
            ax.set_xticks(range(0, 101, 20), [f"{v}%" for v in range(0, 101, 20)])
            ax.axvline(100, color="#999", lw=0.8, ls="--")
            for y, (_name, awareness, pledge) in enumerate(data.colleges):
                ax.text(awareness, y + 0.2, f" {awareness:.0f}", va="center", fontsize=8)
                ax.text(pledge, y - 0.2, f" {pledge:.0f}", va="center", fontsize=8)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 / heights[0] * 2.2), ncol=2, fontsize=9,
                      frameon=False)
        else:
            ax.text(0.5, 0.5, labels["none"], ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()

        for row, (series, last, key, color) in enumerate(
                [(data.reports, data.reports_last_year, "reports", "#C62828"),
                 (data.money, data.money_last_year, "money", "#EF6C00")], start=2):
            ax = fig.add_subplot(grid[row])
            ax.set_title(labels[key], loc="left", fontsize=13)
            xs = list(range(len(data.weeks)))
            ax.plot(xs, series, marker="o", color=color, lw=2, label=labels["this_year"])
            ax.plot(xs, last, marker="s", color="#9E9E9E", lw=1.5, ls="--", label=labels["last_year"])
            step = max(1, len(xs) // 9)
            ax.set_xticks(xs[::step], data.weeks[::step], fontsize=9)
            ax.set_xlabel(labels["week_of"], fontsize=9)
            # Counts and yuan are whole numbers; a quiet term still gets a readable 0-1 axis.
            ax.set_ylim(bottom=0, top=max(1, *series, *last) * 1.15)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(axis="y", alpha=0.3)
            ax.legend(loc="upper left", fontsize=9)
            if key == "money":
                ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")

        ax = fig.add_subplot(grid[4])
        ax.set_title(labels["top_types"], loc="left", fontsize=13)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))      # case counts: no 0.5 cases
        if data.top_types:
            names = [t[0] for t in data.top_types]
            ax.barh(range(len(names)), [t[1] for t in data.top_types], color="#6A1B9A")
            ax.set_yticks(range(len(names)), [_wrap(n) for n in names])
            ax.invert_yaxis()
            for y, (_name, count) in enumerate(data.top_types):
                ax.text(count, y, f" {count}", va="center", fontsize=9)
        else:
            ax.text(0.5, 0.5, labels["none"], ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()

        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _wrap(label: str, width: int = 12) -> str:
    """Break a label longer than the margin (about 12 characters) over two even lines."""
    if len(label) <= width:
        return label
    cut = (len(label) + 1) // 2
    return label[:cut].rstrip() + "\n" + label[cut:].lstrip()


async def weekly_png(app, lang: str = "zh", today: date | None = None) -> bytes:
    """The picture for the app's database, rendered off the event loop."""
    data = await collect(app.store, app.config, app.services.library, app.services.translate, lang, today)
    font = find_cjk_font(app.config.content_path())
    return await asyncio.to_thread(render, data, font)


async def send_weekly_report(app) -> bool:
    """The Monday job: queue the picture for the security channel (once per day)."""
    day = local_day(app.clock.now(), app.config.tz)
    lang = app.config.general.default_language
    png = await weekly_png(app, lang)
    caption = app.services.translate("weekly.caption", lang, day=day)
    message = Outgoing(text=caption, image=png, filename=f"weekly-{day}.png")
    return await app.outbox.push_to_security("weekly_report", message, f"weekly_report:{day}") > 0
