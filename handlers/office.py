"""/stats and /export for the security office: the school's figures and the ledger (台账) file."""

from __future__ import annotations

from datetime import date

from bot.context import Context
from bot.events import Incoming, Outgoing, text
from handlers.figures import Figures, compute_figures, default_period, parse_period, period_words, trend
from handlers.ledger import export_ledger
from storage.stats import ReportFigures, Scope


async def parse_scope_and_period(ctx: Context, payload: str, formats: tuple[str, ...] = ()
                                 ) -> tuple[Scope, object, str, str | None]:
    """(scope, period, format, bad token) from '[college] [class] [period] [format]' in any order."""
    today = date.fromisoformat(ctx.today())
    scope, period, fmt = Scope(), None, formats[0] if formats else ""
    colleges = set(await ctx.store.classes.colleges())
    terms = ctx.config.terms.parsed()
    for token in period_words(payload).split():
        if token.lower() in formats:
            fmt = token.lower()
        elif (found := parse_period(token, today, terms)) is not None:
            period = found
        elif token in colleges:
            scope = Scope(college=token, class_id=scope.class_id)
        elif (klass := await ctx.store.classes.by_name(token)) is not None:
            scope = Scope(college=scope.college, class_id=klass.id)
        else:
            return scope, period, fmt, token
    return scope, period or default_period(today), fmt, None


async def scope_label(ctx: Context, scope: Scope) -> str:
    """'计算机学院', '计科2301' or the whole school."""
    if scope.class_id is not None:
        klass = await ctx.store.classes.get(scope.class_id)
        return klass.name if klass else "-"
    return scope.college or ctx.t("stats.school")


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _delta(now: int, before: int, money: bool = False) -> str:
    change = now - before
    if change == 0:
        return "="
    amount = f"¥{abs(change):,}" if money else str(abs(change))
    return ("↓" if change < 0 else "↑") + amount


def _comparison(ctx: Context, key: str, period, now: ReportFigures, before: ReportFigures) -> str:
    return ctx.t(key, first=period.first.isoformat(), last=period.last.isoformat(), before=before.count,
                 now=now.count, delta=_delta(now.count, before.count), money_before=f"{before.money:,}",
                 money_now=f"{now.money:,}", money_delta=_delta(now.money, before.money, money=True))


def stats_text(ctx: Context, f: Figures, label: str) -> str:
    """The /stats answer."""
    pop, rep = f.population, f.reports
    types = "、".join(f"{_type_name(ctx, t)} {n}" for t, n in rep.by_type[:8])
    lines = [
        ctx.t("stats.title", scope=label, first=f.period.first.isoformat(), last=f.period.last.isoformat(),
              days=f.period.days),
        ctx.t("stats.people", people=pop.people, bound=pop.bound, bound_rate=_pct(f.rate(pop.bound))),
        ctx.t("stats.pledge", rate=_pct(f.rate(pop.pledged)), k=pop.pledged),
        ctx.t("stats.checkin", rate=_pct(f.checkin_rate)),
        ctx.t("stats.awareness", rate=_pct(f.rate(pop.passed)), k=pop.passed),
        ctx.t("stats.quiz", average=f"{f.quiz_average:.1f}" if f.quiz_average is not None else ctx.t("stats.none"),
              n=f.quizzes),
        ctx.t("stats.drills", people=f.drill_people, runs=f.drill_runs, rate=_pct(f.drill_pass_rate)),
        "",
        ctx.t("stats.reports", count=rep.count, urgent=rep.urgent, money=f"{rep.money:,}"),
        ctx.t("stats.ack", minutes=f"{rep.median_ack:.0f}") if rep.median_ack is not None else ctx.t("stats.ack_none"),
        ctx.t("stats.types", types=types) if types else ctx.t("stats.types_none"),
        "",
        _comparison(ctx, "stats.vs_previous", f.period.previous(), rep, f.previous),
        _comparison(ctx, "stats.vs_last_year", f.period.last_year(), rep, f.last_year),
    ]
    if f.baseline is not None:
        lines.append(ctx.t("stats.baseline_note", source=f.baseline.sources, spans=f.baseline.spans,
                           covered=f.baseline.covered_days, days=f.baseline.days)
                     + (ctx.t("stats.baseline_prorated") if f.baseline.prorated else ""))
    lines.append(ctx.t("stats.double", cases=_trend_word(ctx, rep.count, f.last_year.count),
                       money=_trend_word(ctx, rep.money, f.last_year.money), verdict=ctx.t(VERDICT_KEYS[f.verdict])))
    return "\n".join(lines)


VERDICT_KEYS = {"yes": "stats.double_yes", "no": "stats.double_no", "flat": "stats.verdict_flat",
                "none": "stats.verdict_none"}


def _trend_word(ctx: Context, now: int, before: int) -> str:
    """是 ↓ / 持平 / 否 for one half of the 双降 line."""
    return ctx.t({"down": "stats.yes", "same": "stats.same", "up": "stats.no"}[trend(now, before)])


def _type_name(ctx: Context, type_id: str) -> str:
    return ctx.library.types[type_id].name.get(ctx.lang) if type_id in ctx.library.types else type_id


async def show_stats(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/stats [college] [class] [period]: the figures with the previous period and last year."""
    scope, period, _fmt, bad = await parse_scope_and_period(ctx, msg.payload)
    if bad is not None:
        return [text(ctx.t("stats.usage", token=bad[:40]))]
    figures = await compute_figures(ctx.store, ctx.config, ctx.library.pledge.version, scope, period)
    return [text(stats_text(ctx, figures, await scope_label(ctx, scope)))]


async def export_file(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/export [period] [college] [xlsx|csv]: the ledger as a file in the chat (audited)."""
    if ctx.role not in ctx.config.office.export_roles:
        await ctx.audit("export.refused", "ledger", role=ctx.role)
        refusal = text(ctx.t("export.not_allowed"))
        refusal.alert = True
        return [refusal]
    scope, period, fmt, bad = await parse_scope_and_period(ctx, msg.payload, formats=("xlsx", "csv"))
    if bad is not None or scope.class_id is not None:
        return [text(ctx.t("export.usage", token=(bad or msg.payload)[:40]))]
    maker = " ".join(filter(None, [ctx.person.name, ctx.person.person_no])) if ctx.person else ""
    data, filename = await export_ledger(ctx.store, ctx.config, ctx.library, ctx.services.translate, period,
                                         scope.college, fmt, lang="zh", maker=maker)
    await ctx.audit("export.ledger", filename, first=period.first.isoformat(), last=period.last.isoformat(),
                    college=scope.college, format=fmt, bytes=len(data), via="chat")
    caption = ctx.t("export.caption", first=period.first.isoformat(), last=period.last.isoformat(),
                    scope=await scope_label(ctx, scope))
    return [Outgoing(text=caption, file=data, filename=filename)]
