"""Drill pushes nobody asked for: next week's case warning for a missed red flag, and the one idle nudge."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import iso
from bot.events import Button, Outgoing
from bot.scheduler import make_trigger
from storage.records import Account, Person


def week_start(moment: datetime, tz) -> datetime:
    """Local midnight of the Monday of the week after moment's week."""
    local = moment.astimezone(tz)
    monday = local.date() + timedelta(days=7 - local.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=tz)


def this_week(moment: datetime, tz) -> str:
    """The local date of the Monday of moment's week, 'YYYY-MM-DD'."""
    local = moment.astimezone(tz).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def next_warning_time(config, now: datetime) -> datetime:
    """When the weekly case warning goes out in the week after now (config schedule.weekly_warning)."""
    start = week_start(now, config.tz)
    trigger = make_trigger(config.schedule.weekly_warning, config.tz)   # crontab weekdays: 3 is Wednesday
    fire = trigger.get_next_fire_time(None, start)
    return fire if fire is not None and fire < start + timedelta(days=7) else start + timedelta(hours=19)


def pick_case(fraud_type, person: Person, used: set[str]):
    """The type's case for a person: their audience first, one not sent before if any is left."""
    tags = person.tag_set
    cases = list(fraud_type.cases)
    cases.sort(key=lambda c: (c.id in used, not ({"all", *tags} & set(c.audience))))
    return cases[0] if cases else None


def case_message(translate, lang: str, fraud_type, case, flag: str) -> Outgoing:
    """The follow-up: why it comes, the case story, its lesson, and the type's advice and quiz."""
    story = case.text(lang)
    body = "\n".join([
        translate("drill.followup_intro", lang, flag=flag),
        f"【{story.title}】" if lang == "zh" else f"[{story.title}]",
        story.story,
        translate("drill.followup_turning", lang, text=story.turning_point),
        translate("drill.followup_lesson", lang, text=story.lesson),
        translate("drill.remember", lang),
    ])
    return Outgoing(text=body, buttons=[[
        Button(translate("drill.btn_learn", lang), f"/learn {fraud_type.id}"),
        Button(translate("drill.btn_quiz", lang), f"/quiz {fraud_type.id}"),
    ]])


async def schedule_followup(services, person: Person, account: Account, drill, turn_id: str) -> bool:
    """Queue the type's case warning for next week's warning slot; False if one is already due that week."""
    fraud_type = services.library.types.get(drill.fraud_type)
    if fraud_type is None or not fraud_type.cases:
        return False
    now = services.clock.now()
    due = next_warning_time(services.config, now)
    week = week_start(now, services.config.tz).date().isoformat()
    case = pick_case(fraud_type, person, await services.store.drills.sent_followup_cases(person.id))
    fresh = await services.store.drills.add_followup(person.id, fraud_type.id, drill.id, case.id, week, iso(due))
    if not fresh:
        return True      # already owed this type's warning next week: one is enough
    lang = account.language or services.config.general.default_language
    flag = drill.turns[turn_id].flag.get(lang)
    message = case_message(services.translate, lang, fraud_type, case, flag)
    await services.outbox.push_to_address(
        account.platform, account.chat_key, "drill-followup", message,
        dedupe_key=f"drill-followup:{person.id}:{fraud_type.id}:{week}",
        delay_s=max(0.0, (due - now).total_seconds()),
    )
    return True


async def followup_cases(services, week: str | None = None) -> dict[int, str]:
    """person_id -> fraud type whose case warning a drill already queued for this week (or the given one).

    For the weekly warning job: these people get that type's case from the drill follow-up, already in
    the outbox, so the job may skip or vary their generic warning.
    """
    week = week or this_week(services.clock.now(), services.config.tz)
    return await services.store.drills.followups_for_week(week)


async def nudge_idle_drills(services) -> int:
    """Remind, once, each account that went quiet mid-drill; return how many were nudged."""
    from handlers.drill import CONVERSATION, drills_of_library, turn_message_for

    now = services.clock.now()
    nudged = 0
    for account_id, state in await services.store.conversations.idle_since(CONVERSATION, iso(now - timedelta(hours=services.config.program.drill_nudge_hours))):
        if state.data.get("nudged"):
            continue
        account = await services.store.accounts.get(account_id)
        drill = drills_of_library(services.library).get(state.data.get("drill", ""))
        if account is None or drill is None or state.step not in drill.turns:
            continue
        lang = account.language or services.config.general.default_language
        reminder = Outgoing(text=services.translate("drill.nudge", lang, title=drill.title.get(lang)))
        turn = turn_message_for(services.translate, lang, drill, drill.turns[state.step],
                                state.data.get("run", ""), len(state.data.get("path", [])) + 1)
        reminder.text += "\n\n" + turn.text
        reminder.buttons = turn.buttons
        await services.outbox.push_to_address(
            account.platform, account.chat_key, "drill-nudge", reminder,
            dedupe_key=f"drill-nudge:{account_id}:{state.data.get('run', '')}",
        )
        state.data["nudged"] = True
        await services.store.conversations.set(account_id, state)
        nudged += 1
    return nudged
