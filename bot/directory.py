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


async def follow_contact_change(app, platform: str, fields: dict[str, str]) -> None:
    """A WeCom change_contact from sys: a deleted member loses the binding the directory made, a renamed one follows.

    Nothing here creates an account or a person: the roster stays the only source of people.
    """
    if fields.get("FromUserName") != "sys":
        return
    change, userid = fields.get("ChangeType", ""), fields.get("UserID", "")
    account = await app.store.accounts.find(platform, userid) if userid else None
    if change == "delete_user" and account is not None and account.person_id and account.proof == "wecom":
        await app.store.accounts.unbind(account.id)
        await app.store.conversations.clear(account.id)
        await app.store.accounts.mark_unreachable(account.id, "left the WeCom directory")
        await app.store.audit.write("identity.wecom_deleted", f"account:{account.id}",
                                    detail={"person": account.person_id})
        log.info("wecom member %s left the directory: its binding ended", userid)
    new = fields.get("NewUserID", "")
    if change == "update_user" and new and new != userid:
        person = await app.store.people.by_wecom_userid(userid)
        if person is not None and not person.forgotten_at:
            await app.store.people.set_wecom_userid(person.id, new)
        moved = await app.store.accounts.rename_user_key(platform, userid, new)
        if person is not None or moved:
            await app.store.audit.write("identity.wecom_renamed", f"account:{account.id if account else '-'}",
                                        detail={"person": person.id if person else None})
            log.info("wecom member %s is now %s in the directory", userid, new)
