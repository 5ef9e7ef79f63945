"""The figures page: the same numbers as /stats for the school, a college or a class, with bar charts."""

from __future__ import annotations

from bot.context import Context
from handlers.figures import compute_figures
from handlers.office import parse_scope_and_period, scope_label
from storage.stats import Scope

PERIODS = ("week", "month", "term", "year")


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


async def figures_page(ctx: Context, scope_token: str, period_token: str) -> dict:
    """The figures of the chosen scope and period, /stats' own computation, plus each college's rates."""
    tokens = " ".join(t for t in (scope_token.strip(), period_token.strip()) if t)
    scope, period, _fmt, bad = await parse_scope_and_period(ctx, tokens)
    if bad is not None:
        scope = Scope()
    f = await compute_figures(ctx.store, ctx.config, ctx.library.pledge.version, scope, period)
    pop, rep = f.population, f.reports
    rates = [
        ("console.fig_bound", _pct(pop.bound, pop.people)),
        ("console.fig_pledge", round(f.rate(pop.pledged), 1)),
        ("console.fig_checkin", round(f.checkin_rate, 1)),
        ("console.fig_awareness", round(f.rate(pop.passed), 1)),
        ("console.fig_drill_pass", round(f.drill_pass_rate, 1)),
    ]
    comparison = [
        ("console.fig_this_period", rep.count, rep.money),
        ("console.fig_previous", f.previous.count, f.previous.money),
        ("console.fig_last_year", f.last_year.count, f.last_year.money),
    ]
    top = max([c for _k, c, _m in comparison] + [1])
    top_money = max([m for _k, _c, m in comparison] + [1])
    colleges = [{"college": college, "people": people, "pledge": _pct(pledged, people), "aware": _pct(passed, people)}
                for college, people, pledged, passed in await ctx.store.stats.per_college(ctx.library.pledge.version)]
    return {
        "label": await scope_label(ctx, scope), "first": f.period.first.isoformat(), "last": f.period.last.isoformat(),
        "days": f.period.days, "people": pop.people, "bound": pop.bound, "rates": rates,
        "quiz_average": None if f.quiz_average is None else round(f.quiz_average, 1), "quizzes": f.quizzes,
        "drill_people": f.drill_people, "drill_runs": f.drill_runs,
        "reports": rep.count, "urgent": rep.urgent, "money": rep.money,
        "median_ack": None if rep.median_ack is None else round(rep.median_ack),
        "types": [(ctx.library.types[t].name.get(ctx.lang) if t in ctx.library.types else t, n)
                  for t, n in rep.by_type[:8]],
        "comparison": [(k, c, m, round(100 * c / top), round(100 * m / top_money)) for k, c, m in comparison],
        "cases_down": f.cases_down, "money_down": f.money_down, "double": f.double_decrease,
        "colleges": colleges, "scope_token": scope_token if bad is None else "",
        "period_token": period_token if bad is None else "", "bad": bad, "periods": PERIODS,
        "scopes": await ctx.store.classes.colleges(),
    }
