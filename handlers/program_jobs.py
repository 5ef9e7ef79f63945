"""The program's scheduled pushes: daily self-check, weekly case warning, campaigns, contest closing.

Each job is `async def job(app, day=None)`: it works out its audience, builds each person's message in
their language and queues it through app.outbox with a dedupe key of campaign + person + date, so a job
run twice the same day (a restart, a catch-up) never reaches anyone twice. Building the messages for
tens of thousands of people yields to the event loop every few hundred people, and the outbox enqueues
in chunks, so people chatting with the bot are answered in between.
"""

from __future__ import annotations

import asyncio
from datetime import date

from bot.clock import iso, local_day
from bot.events import Button, Outgoing, text
from bot.library.campaigns import calendar_of
from bot.outbox import PushSummary
from bot.scheduler import JobSpec
from handlers.campaigns import letter_text
from handlers.checkin import ROTATE_DAYS, day_before, question_message, questions_for
from handlers.contest import leaderboard_text
from handlers.picking import pick_case, rng_for, type_weights
from handlers.warning import case_message
from handlers.weekly_drill import drill_week, push_weekly_drills

YIELD_EVERY = 500


def _today(app) -> str:
    return local_day(app.clock.now(), app.config.tz)


def _lang(app, account) -> str:
    return account.language or app.config.general.default_language


def _tags(raw: str) -> set[str]:
    return {t for t in raw.split(",") if t}


async def push_daily_checkin(app, day: str | None = None) -> PushSummary:
    """Queue today's first self-check question for everyone reachable who has not checked in yet."""
    day = day or _today(app)
    store, library, translate = app.store, app.services.library, app.services.translate
    count = app.config.program.checkin_questions
    done = await store.audience.checked_in_on(day)
    recent = await store.audience.recent_checkin_questions(day_before(day, ROTATE_DAYS), day)
    cache: dict[tuple[str, str, int], Outgoing] = {}

    def message_for(person_id: int, tags: set[str]):
        def build(account) -> Outgoing:
            questions = questions_for(library, person_id, tags, day, count, recent.get(person_id, set()))
            lang = _lang(app, account)
            key = (questions[0].id, lang, len(questions))
            if key not in cache:
                first = question_message(translate, lang, questions[0], day, 1, len(questions))
                first.text = translate("checkin.push_intro", lang) + "\n\n" + first.text
                cache[key] = first
            return cache[key]
        return build

    items = [(pid, message_for(pid, _tags(tags))) for pid, tags in await store.audience.reachable()
             if pid not in done]
    summary = await app.outbox.push_many(f"checkin:{day}", items)
    await _ask_pledge_again(app)
    return summary


async def _ask_pledge_again(app) -> PushSummary:
    """People who signed an older pledge are asked, once per version, to read and sign the new one."""
    pledge = app.services.library.pledge
    outdated = set(await app.store.pledges.outdated(pledge.version))
    reachable = {pid for pid, _ in await app.store.audience.reachable()}
    translate = app.services.translate

    def build(account) -> Outgoing:
        lang = _lang(app, account)
        return text(translate("pledge.push_new", lang),
                    [Button(translate("pledge.read", lang), "/pledge")])

    campaign = f"pledge:v{pledge.version}"
    return await app.outbox.push_many(campaign, [(pid, build) for pid in sorted(outdated & reachable)])


async def push_weekly_warning(app, day: str | None = None) -> PushSummary:
    """Queue the weekly activity: a case story chosen by tags (never one already had), or a drill."""
    day = day or _today(app)
    campaign = f"warning:{day}"
    audience = await app.store.audience.reachable()
    if not drill_week(app.config.program.weekly_activity, day):
        return await _push_cases(app, campaign, day, audience, types=(), intro=None)
    summary, no_drill_left = await push_weekly_drills(app, campaign, day, audience)
    cases = await _push_cases(app, campaign, day, no_drill_left, types=(), intro=None)
    return PushSummary(summary.queued + cases.queued, summary.duplicates + cases.duplicates,
                       summary.unreachable + cases.unreachable)


async def _push_cases(app, campaign: str, day: str, audience, types: tuple[str, ...], intro) -> PushSummary:
    store, library, translate = app.store, app.services.library, app.services.translate
    already = await store.outbox.people_in_campaign(campaign)
    sent = await store.warnings.sent_by_person()
    picks: list[tuple[int, str, str]] = []
    chosen: dict[int, object] = {}
    for n, (person_id, tags) in enumerate(audience):
        if person_id in already:
            continue
        case = pick_case(library, _tags(tags), rng_for(campaign, person_id), exclude=sent.get(person_id, set()),
                         types=types)
        if case is None:
            continue
        picks.append((person_id, case.id, case.fraud_type))
        chosen[person_id] = case
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
    # Remember the stories before queueing them: a crash in between may skip someone this week,
    # but can never make a story repeat.
    await store.warnings.record_many(picks, day)
    cache: dict[tuple[str, str], Outgoing] = {}

    def build_for(case):
        def build(account) -> Outgoing:
            lang = _lang(app, account)
            if (case.id, lang) not in cache:
                cache[(case.id, lang)] = case_message(translate, library, case, lang,
                                                      intro(lang) if intro else translate("warning.push_intro", lang))
            return cache[(case.id, lang)]
        return build

    return await app.outbox.push_many(campaign, [(pid, build_for(case)) for pid, case in chosen.items()])


async def push_campaigns(app, day: str | None = None) -> dict[str, PushSummary]:
    """Queue each running campaign once per window for the people it targets."""
    day = day or _today(app)
    today = date.fromisoformat(day)
    library, translate = app.services.library, app.services.translate
    audience = await app.store.audience.reachable()
    results = {}
    for campaign, started in calendar_of(library).active(today):
        name = f"campaign:{campaign.id}:{started.isoformat()}"
        targets = [(pid, tags) for pid, tags in audience if campaign.matches(_tags(tags))]

        def heading(lang: str, campaign=campaign) -> str:
            return f"【{campaign.title.get(lang)}】\n{campaign.intro.get(lang)}"

        if campaign.kind == "warning":
            results[name] = await _push_cases(app, name, day, targets, campaign.types, heading)
            continue
        if campaign.kind == "letter":
            def build(account, campaign=campaign) -> Outgoing:
                return text(letter_text(translate, campaign, _lang(app, account)))
            results[name] = await app.outbox.push_many(name, [(pid, build) for pid, _ in targets])
            continue
        items = []
        for pid, tags in targets:
            weights = type_weights(library, _tags(tags))
            type_id = max(campaign.types, key=lambda t: weights.get(t, 1.0))

            def build_quiz(account, type_id=type_id, heading=heading) -> Outgoing:
                lang = _lang(app, account)
                name_ = library.type(type_id).name.get(lang)
                return text(heading(lang), [Button(translate("campaign.take_quiz", lang, type=name_),
                                                   f"/quiz {type_id}")])
            items.append((pid, build_quiz))
        results[name] = await app.outbox.push_many(name, items)
    return results


async def close_due_contests(app) -> list[int]:
    """Close contests whose time is over and send the leaderboard to whoever started each."""
    closed = []
    for contest_id in await app.store.contests.due_to_close(iso(app.clock.now())):
        if not await app.store.contests.close(contest_id):
            continue
        closed.append(contest_id)
        contest = await app.store.contests.get(contest_id)
        if contest.started_by is None:
            continue
        languages = {}
        for lang in ("zh", "en"):
            languages[lang] = await leaderboard_text(app.store, app.services.translate, lang, contest_id)

        def build(account, contest_id=contest_id, languages=languages) -> Outgoing:
            lang = _lang(app, account)
            return text(app.services.translate("contest.closed_push", lang, id=contest_id) + "\n\n" + languages[lang])

        await app.outbox.push_to_person(contest.started_by, f"contest-board:{contest_id}", build)
    return closed


JOBS = (
    JobSpec("program.daily_checkin", lambda config: config.schedule.daily_checkin, push_daily_checkin),
    JobSpec("program.weekly_warning", lambda config: config.schedule.weekly_warning, push_weekly_warning),
    JobSpec("program.campaigns", lambda config: config.schedule.campaigns, push_campaigns),
    JobSpec("program.close_contests", "* * * * *", close_due_contests),
)
