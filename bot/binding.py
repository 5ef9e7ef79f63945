"""Binding a chat to a person, the same for every proof: the limit of chats, and the notice to the person's others."""

from __future__ import annotations

from bot.events import Button, text
from bot.roles import WEAK_PROOF
from storage.records import Account, Person

NOT_ME = "notme:"


def strength(proof: str | None) -> int:
    """How much a binding proves: the class code nothing, anything else (invite, SSO, WeCom, operator) a person."""
    return 0 if proof is None or proof in WEAK_PROOF else 1


async def bind_chat(services, account: Account, person: Person, proof: str) -> bool:
    """Bind the account to the person within identity.max_accounts and tell their other chats; False if full."""
    store, limit = services.store, services.config.identity.max_accounts
    others = [a for a in await store.accounts.for_person(person.id) if a.id != account.id]
    if strength(proof) and len(others) >= limit:
        # A proven binding makes room by ending the class-code-only ones: those prove nothing.
        for weak in [a for a in others if not strength(a.proof)]:
            await store.accounts.unbind(weak.id)
            await store.audit.write("identity.weak_unbound", f"account:{weak.id}", actor_account_id=account.id,
                                    detail={"person": person.id})
        others = [a for a in others if strength(a.proof)]
    if len(others) >= limit:
        await store.audit.write("identity.too_many_accounts", f"#{person.id}", actor_account_id=account.id)
        return False
    await store.accounts.bind(account.id, person.id, proof)
    bound = await store.accounts.get(account.id)
    for other in others:
        await tell_existing(services, bound, other)
    return True


async def tell_existing(services, new: Account, other: Account) -> None:
    """Queue the "a new chat was linked to you" notice, with its "not me" button, to one existing chat."""
    config = services.config
    lang = other.language or config.general.default_language
    when = services.clock.now().astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
    notice = text(
        services.translate("identity.new_binding", lang, platform=new.platform, when=when),
        [Button(services.translate("identity.btn_not_me", lang), f"{NOT_ME}{new.id}")],
    )
    await services.outbox.push_to_address(other.platform, other.chat_key, "identity.new_binding", notice,
                                          f"identity.new_binding:{new.id}:{other.id}:{new.bound_at}")
