"""Proven binding: personal invites, the limit of chats per person, the "not me" notice to existing chats."""

from __future__ import annotations

from datetime import timedelta

from bot.binding import NOT_ME, bind_chat, strength
from bot.clock import iso, parse_iso
from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.links import deep_link
from bot.roles import effective_role, role_unproven
from storage.records import Person


async def bind_with_invite(code: str, ctx: Context) -> list[Outgoing] | None:
    """Spend a personal invite and bind this chat with its person's role; None when no such invite exists."""
    person_id, outcome = await ctx.store.invites.redeem(code, ctx.account.id)
    if outcome == "unknown":
        return None
    if person_id is None:
        await ctx.audit("identity.invite_refused", outcome)
        return [text(ctx.t(f"identity.invite_{outcome}"))]
    person = await ctx.store.people.get(person_id)
    if person is None or person.forgotten_at:
        return [text(ctx.t("identity.invite_unknown"))]
    await ctx.audit("identity.invite_used", f"#{person.id}")
    return await bind_person(ctx, person, "invite")


async def bind_person(ctx: Context, person: Person, proof: str, klass_name: str | None = None) -> list[Outgoing]:
    """Bind this chat to the person (within identity.max_accounts), tell their other chats, answer here."""
    ctx.end()
    if not await bind_chat(ctx.services, ctx.account, person, proof):
        return [text(ctx.t("identity.too_many", n=ctx.config.identity.max_accounts))]
    ctx.account = await ctx.store.accounts.get(ctx.account.id)
    ctx.person = person
    klass = await ctx.store.classes.get(person.class_id) if person.class_id else None
    name = klass_name or (klass.name if klass else "-")
    replies = [text(
        ctx.t("onboarding.bound", klass=name, role=ctx.t(f"role.{ctx.role}")),
        [Button(ctx.t("menu.pledge"), "/pledge"), Button(ctx.t("menu.checkin"), "/checkin")],
        [Button(ctx.t("menu.quiz"), "/quiz"), Button(ctx.t("menu.help"), "/help")],
    )]
    if role_unproven(person, ctx.config, ctx.account):
        role = ctx.t(f"role.{effective_role(person, ctx.config)}")
        replies.append(text(ctx.t("identity.role_needs_proof", role=role)))
    return replies


async def press_not_me(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Unbind the chat the notice was about, at once, and alert the office."""
    target, refusal = await _drop_other_chat(msg.payload[len(NOT_ME):], ctx, "identity.not_me_refused")
    if target is None:
        return refusal
    await ctx.audit("identity.not_me", f"account:{target.id}", person=ctx.person.id, platform=target.platform)
    alert = text(ctx.services.translate(
        "identity.office_not_me", ctx.config.general.default_language,
        number=ctx.person.person_no or f"#{ctx.person.id}", platform=target.platform,
        when=parse_iso(target.bound_at).astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")
        if target.bound_at else "-"))
    await ctx.outbox.push_to_security("identity.not_me", alert, f"identity.not_me:{target.id}:{target.bound_at}")
    return [text(ctx.t("identity.not_me_done"))]


async def _drop_other_chat(target_id: str, ctx: Context, refused_action: str):
    """Unbind another chat of the same person: (the chat, []) when done, (None, the answer) when not.

    A chat bound by class code only must not throw out one bound with proof.
    """
    target = await ctx.store.accounts.get(int(target_id)) if target_id.isdigit() else None
    if target is None or target.person_id != ctx.person.id or target.id == ctx.account.id:
        return None, [text(ctx.t("identity.not_me_gone"))]
    if strength(target.proof) > strength(ctx.account.proof):
        await ctx.audit(refused_action, f"account:{target.id}")
        return None, [text(ctx.t("identity.not_me_weaker"))]
    await ctx.store.accounts.unbind(target.id)
    await ctx.store.conversations.clear(target.id)
    return target, []


async def invite_command(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/invite <number>: a single-use personal code (and deep link) for one person, audited."""
    key = msg.payload.strip().split()[0] if msg.payload.strip() else ""
    if not key:
        return [text(ctx.t("identity.invite_usage"))]
    person = await ctx.store.people.resolve(key)
    if person is None or person.forgotten_at:
        return [text(ctx.t("identity.invite_no_person", who=key[:30]))]
    days = ctx.config.identity.invite_days
    code, expires = await ctx.store.invites.create(person.id, days, f"#{ctx.person.id}")
    await ctx.audit("identity.invite_created", f"#{person.id}", days=days)
    until = parse_iso(expires).astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")
    link = deep_link(ctx.config, code)
    return [text(ctx.t("identity.invite_made", number=person.person_no, code=code, until=until,
                       link=link or "-"))]



REFUSALS_ALERT = 5              # refusals from one chat within REFUSALS_WINDOW alert the office
REFUSALS_WINDOW = timedelta(minutes=10)
REFUSALS_QUIET = timedelta(hours=1)     # a sustained attack alerts again at most this often per chat
REFUSALS_ALERTED = "identity.refusals_alerted"


async def record_refusal(msg: Incoming, ctx: Context, tried: str) -> None:
    """The dispatcher's hook for a function the chat's role does not have."""
    await note_refusal(ctx, tried)


async def note_refusal(ctx: Context, tried: str) -> None:
    """Audit a refused attempt at an office or class-leader function; a burst of five alerts the office once."""
    await ctx.audit("refused", tried, role=ctx.role, platform=ctx.account.platform)
    now = ctx.clock.now()
    burst = await ctx.store.audit.targets_since("refused", ctx.account.id, iso(now - REFUSALS_WINDOW))
    if len(burst) < REFUSALS_ALERT or await ctx.store.audit.count_since(
            REFUSALS_ALERTED, ctx.account.id, iso(now - REFUSALS_QUIET)):
        return
    await ctx.audit(REFUSALS_ALERTED, f"account:{ctx.account.id}", n=len(burst))
    lang = ctx.config.general.default_language
    who = ctx.services.translate("identity.refusal_chat", lang, platform=ctx.account.platform,
                                 chat=ctx.account.user_key)
    if ctx.person is not None:
        who += ctx.services.translate("identity.refusal_person", lang, number=ctx.person.person_no or "-",
                                      name=ctx.person.name or "")
    # What was tried is the command or button word and the case number at most: never what a report says.
    attempts = ", ".join(dict.fromkeys(" ".join(item.split()[:2]) for item in burst))
    alert = text(ctx.services.translate("identity.office_refusals", lang, who=who, n=len(burst),
                                        minutes=int(REFUSALS_WINDOW.total_seconds() // 60), tried=attempts))
    await ctx.outbox.push_to_security("identity.refusals", alert, f"identity.refusals:{ctx.account.id}:{iso(now)}")


SSO_BIND = "sso:bind:"
SSO_PLATFORMS = ("wecom",)      # where the directory proves who someone is, no SSO link is offered


async def sso_offer(ctx: Context) -> list[Outgoing]:
    """With [identity.cas] set: a one-time sign-on link for this chat (valid ten minutes, single use)."""
    cas = ctx.config.identity.cas
    if not cas.server_url or ctx.account.platform in SSO_PLATFORMS:
        return []
    token = await ctx.store.sso_links.create(ctx.account.id)
    link = cas.public_url.rstrip("/") + "/sso/login?t=" + token
    return [text(ctx.t("identity.sso_offer", link=link))]


async def press_sso_bind(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The CAS callback named the person for this chat's link: bind them, proven by the school's sign-on."""
    person_id = await ctx.store.sso_links.take_grant(msg.payload[len(SSO_BIND):], ctx.account.id)
    person = await ctx.store.people.get(person_id) if person_id else None
    if person is None or person.forgotten_at:
        return [text(ctx.t("identity.sso_link_used"))]
    await ctx.audit("identity.sso_bound", f"#{person.id}")
    return await bind_person(ctx, person, "sso")


UNLINK = "chat:unlink:"


async def linked_chats(ctx: Context) -> tuple[list[str], list[list[Button]]]:
    """Lines listing the person's linked chats (platform, since when), and rows of buttons unlinking the others."""
    lines, buttons = [ctx.t("identity.chats_title")], []
    for n, account in enumerate(await ctx.store.accounts.for_person(ctx.person.id), 1):
        since = parse_iso(account.bound_at).astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M") \
            if account.bound_at else "-"
        here = ctx.t("identity.chat_this") if account.id == ctx.account.id else ""
        lines.append(ctx.t("identity.chat_line", n=n, platform=account.platform, since=since, here=here))
        if account.id != ctx.account.id:
            buttons.append(Button(ctx.t("identity.btn_unlink", n=n), f"{UNLINK}{account.id}"))
    return lines, [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


async def press_unlink(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Unlink another of the person's chats (a class-code chat cannot unlink a proven one)."""
    target, refusal = await _drop_other_chat(msg.payload[len(UNLINK):], ctx, "identity.unlink_refused")
    if target is None:
        return refusal
    await ctx.audit("identity.unlinked", f"account:{target.id}", platform=target.platform)
    return [text(ctx.t("identity.unlinked"))]
