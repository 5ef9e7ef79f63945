"""Onboarding: choose a language, bind with a class code and a student or staff number."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from bot.clock import iso, parse_iso
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from handlers.identity import bind_person, bind_with_invite, sso_offer
from storage.invites import looks_like_invite

CONVERSATION = "onboarding"
MAX_FAILURES = 5
LOCK_MINUTES = 15
_NUMBER = re.compile(r"^[A-Za-z0-9-]{3,20}$")


def typed(body: str) -> str:
    """What was typed, with full-width letters and digits from a Chinese keyboard made plain."""
    return unicodedata.normalize("NFKC", body).strip()


def language_buttons() -> list[Button]:
    """The two language choices, each labelled in its own language."""
    return [Button("中文", "lang:zh"), Button("English", "lang:en")]


async def start_onboarding(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Greet; a bound person is welcomed back, anyone else chooses a language to begin binding."""
    code = typed(msg.payload).upper()
    if looks_like_invite(code):
        # A personal invite (typed or from a t.me/<bot>?start=<code> link) binds in one step.
        replies = await bind_with_invite(code, ctx)
        if replies is not None:
            return replies
    if ctx.person is not None:
        ctx.end()
        return [text(ctx.t("onboarding.welcome_back", role=ctx.t(f"role.{ctx.role}")))]
    ctx.begin(CONVERSATION, "language", code=code)
    school = ctx.config.general.school_name_en if ctx.lang == "en" else ctx.config.general.school_name_zh
    return [text(ctx.t("onboarding.hello", school=school), language_buttons())]


async def choose_language(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Switch language; inside onboarding, go on to the class code."""
    lang = msg.payload.split(":", 1)[1] if ":" in msg.payload else ""
    if lang not in ("zh", "en"):
        return [text(ctx.t("error.stale_button"))]
    await ctx.store.accounts.set_language(ctx.account.id, lang)
    ctx.lang = lang
    if not ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("lang.switched"))]
    code = ctx.state.data.get("code") if ctx.state else ""
    if code:
        klass = await ctx.store.classes.by_code(code)
        if klass is not None:
            ctx.goto("number", class_id=klass.id)
            return [text(ctx.t("onboarding.ask_number", klass=klass.name))]
    ctx.goto("code")
    return [text(ctx.t("onboarding.ask_code")), *await sso_offer(ctx)]


async def show_language_menu(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Offer the two languages."""
    return [text(ctx.t("lang.choose"), language_buttons())]


async def continue_onboarding(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Take the class code, then the number, counting wrong tries."""
    assert ctx.state is not None
    if msg.media is not None:
        return [text(ctx.t("onboarding.text_please"))]
    locked = _locked_until(ctx)
    if locked:
        return [text(ctx.t("onboarding.locked", until=locked))]
    step = ctx.state.step
    if step == "language":
        return [text(ctx.t("lang.choose"), language_buttons())]
    if step == "code":
        code = typed(msg.payload)
        if looks_like_invite(code):
            replies = await bind_with_invite(code, ctx)
            if replies is not None:
                return replies
            return await _failure(ctx, "onboarding.bad_code")
        klass = await ctx.store.classes.by_code(code)
        if klass is None:
            return await _failure(ctx, "onboarding.bad_code")
        if not ctx.config.identity.class_code:
            return [text(ctx.t("identity.class_code_off"))]
        ctx.goto("number", class_id=klass.id)
        return [text(ctx.t("onboarding.ask_number", klass=klass.name))]
    if step == "name":
        return await _check_name(typed(msg.payload), ctx)
    return await _bind_number(typed(msg.payload), ctx)


async def _bind_number(number: str, ctx: Context) -> list[Outgoing]:
    assert ctx.state is not None
    if not _NUMBER.match(number):
        return [text(ctx.t("onboarding.number_format"))]
    klass = await ctx.store.classes.get(ctx.state.data["class_id"])
    if klass is None:
        ctx.goto("code")
        return [text(ctx.t("onboarding.ask_code"))]
    person = await ctx.store.people.by_number(number)
    if await ctx.store.people.roster_loaded_for(klass.id):
        if person is None or person.class_id != klass.id:
            return await _failure(ctx, "onboarding.not_in_class")
    elif person is None:
        person = await ctx.store.people.create(number, klass.id, klass.college)
    elif person.class_id != klass.id:
        return await _failure(ctx, "onboarding.not_in_class")
    if person.name:
        # With names on the roster, a number alone (which classmates know) is not enough.
        ctx.goto("name", person_id=person.id)
        return [text(ctx.t("identity.ask_name"))]
    return await bind_person(ctx, person, "code", klass.name)


def same_name(typed_name: str, roster_name: str) -> bool:
    """Whether a typed name is the roster's, full-width forms, spaces and case aside."""
    def clean(value: str) -> str:
        return "".join(unicodedata.normalize("NFKC", value).split()).replace("·", "").replace(".", "").casefold()
    return bool(clean(typed_name)) and clean(typed_name) == clean(roster_name)


async def _check_name(name: str, ctx: Context) -> list[Outgoing]:
    assert ctx.state is not None
    person = await ctx.store.people.get(ctx.state.data.get("person_id") or 0)
    if person is None or person.forgotten_at or not person.name:
        ctx.goto("code")
        return [text(ctx.t("onboarding.ask_code"))]
    if not same_name(name, person.name):
        return await _failure(ctx, "identity.wrong_name")
    return await bind_person(ctx, person, "code")


async def _failure(ctx: Context, key: str) -> list[Outgoing]:
    lock_until = ctx.clock.now() + timedelta(minutes=LOCK_MINUTES)
    failures = await ctx.store.accounts.record_bind_failure(ctx.account.id, MAX_FAILURES, iso(lock_until))
    if failures >= MAX_FAILURES:
        return [text(ctx.t("onboarding.locked", until=_local_time(ctx, lock_until)))]
    return [text(ctx.t(key, left=MAX_FAILURES - failures))]


def _locked_until(ctx: Context) -> str | None:
    locked = ctx.account.bind_locked_until
    if locked and parse_iso(locked) > ctx.clock.now():
        return _local_time(ctx, parse_iso(locked))
    return None


def _local_time(ctx: Context, moment) -> str:
    return moment.astimezone(ctx.config.tz).strftime("%H:%M")


async def unbind_account(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Ask before removing this chat's link to the person."""
    return [text(ctx.t("unbind.confirm"), [Button(ctx.t("unbind.yes"), "unbind:yes"),
                                           Button(ctx.t("common.cancel"), "unbind:no")])]


async def confirm_unbind(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Remove the link, or leave it."""
    if not msg.payload.endswith(":yes"):
        return [text(ctx.t("common.cancelled"))]
    await ctx.store.accounts.unbind(ctx.account.id)
    ctx.end()
    ctx.person = None
    return [text(ctx.t("unbind.done"))]


async def show_onboarding_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The binding question the person stands at, again."""
    step = ctx.state.step
    if step == "number":
        klass = await ctx.store.classes.get(ctx.state.data.get("class_id", 0))
        if klass is not None:
            return [text(ctx.t("onboarding.ask_number", klass=klass.name))]
    if step == "name":
        return [text(ctx.t("identity.ask_name"))]
    if step in ("code", "number"):
        return [text(ctx.t("onboarding.ask_code"))]
    return [text(ctx.t("lang.choose"), language_buttons())]


FLOW = Conversation(CONVERSATION, {"language": continue_onboarding, "code": continue_onboarding,
                                   "number": continue_onboarding, "name": continue_onboarding},
                    show_onboarding_step,
                    buttons=("lang:",), commands=("start", "lang"))
