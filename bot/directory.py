"""WeCom directory binding: a member's userid is the school's own proof of who they are."""

from __future__ import annotations

import logging

from bot.binding import bind_chat

log = logging.getLogger(__name__)


async def bind_directory_member(app, platform: str, user_key: str) -> bool:
    """Bind a WeCom chat to the roster person whose wecom_userid (or else number) is the userid; True if bound now."""
    account = await app.store.accounts.find(platform, user_key)
    if account is not None and account.person_id is not None and account.proof == "wecom":
        return False
    if account is not None and await app.store.audit.has("identity.not_me", f"account:{account.id}"):
        return False        # the person said this chat is not them: only an invite or the office binds it again
    person = await app.store.people.by_wecom_userid(user_key)
    if person is None or person.forgotten_at:
        return False
    if account is None:
        account = await app.store.accounts.touch(platform, user_key, user_key)
    if not await bind_chat(app.services, account, person, "wecom"):
        log.info("wecom member %s not bound through the directory: the person has the most chats allowed", user_key)
        return False
    await app.store.audit.write("identity.wecom_bound", f"#{person.id}", actor_account_id=account.id)
    log.info("wecom member %s bound through the directory", user_key)
    return True
