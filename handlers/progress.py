"""A person's progress in the program: pledge, check-ins, awareness test, green status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.context import Context


@dataclass
class Progress:
    """Where a person stands."""

    pledge_current: bool
    pledge_version: int | None
    checkin_days_7: int
    checked_in_today: bool
    streak: int
    passed: bool
    best_score: int | None
    green: bool


async def person_progress(ctx: Context, person_id: int) -> Progress:
    """Compute a person's progress from the records."""
    store, today = ctx.store, ctx.today()
    latest = await store.pledges.latest(person_id)
    current_version = ctx.library.pledge.version
    since = (date.fromisoformat(today) - timedelta(days=6)).isoformat()
    days = await store.checkins.days(person_id, since)
    passed = await store.quizzes.has_passed(person_id)
    pledge_current = latest is not None and latest[0] >= current_version
    green = pledge_current and passed and len(days) >= ctx.config.program.green_checkin_days
    return Progress(
        pledge_current=pledge_current,
        pledge_version=latest[0] if latest else None,
        checkin_days_7=len(days),
        checked_in_today=today in days,
        streak=await store.checkins.streak(person_id, today),
        passed=passed,
        best_score=await store.quizzes.best_score(person_id),
        green=green,
    )


async def progress_lines(ctx: Context) -> list[str]:
    """The progress part of /me, with what is missing for green."""
    assert ctx.person is not None
    p = await person_progress(ctx, ctx.person.id)
    need = ctx.config.program.green_checkin_days
    lines = [ctx.t("progress.title")]
    if p.pledge_current:
        lines.append(ctx.t("progress.pledge_ok"))
    elif p.pledge_version is not None:
        lines.append(ctx.t("progress.pledge_old"))
    else:
        lines.append(ctx.t("progress.pledge_missing"))
    lines.append(ctx.t("progress.checkins", days=p.checkin_days_7, need=need, streak=p.streak))
    if p.passed:
        lines.append(ctx.t("progress.passed", score=p.best_score or 0))
    else:
        lines.append(ctx.t("progress.not_passed", pass_score=ctx.config.program.pass_score))
    best = await ctx.store.drills.best(ctx.person.id)
    passed = sum(1 for _, did_pass in best.values() if did_pass)
    total = len(ctx.library.extra.get("drills", {}))
    lines.append(ctx.t("progress.drills", done=len(best), passed=passed, total=total))
    lines.append(ctx.t("progress.green") if p.green else ctx.t("progress.not_green"))
    return lines
