"""Telegram command menus: per language for private chats, groups and the security group, and per person
for the staff roles, so a monitor or an officer sees their own commands in their private chat."""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot.roles import GUEST, effective_role

log = logging.getLogger(__name__)

PLATFORM = "telegram"
GROUP_COMMANDS = ("help", "start")
PERSONAL_ROLES = frozenset({"monitor", "counsellor", "security", "admin"})   # whose menu differs from a student's
MAX_COMMANDS = 100


class CommandMenus:
    """Sets the menus at start and a person's own menu once they bind; remembers what each account has."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.app = channel.app
        self._known: dict[str, tuple[str, str]] = {}   # user key -> (role, language) its menu was set for

    def commands(self, role: str, lang: str, only: tuple[str, ...] = ()) -> list[BotCommand]:
        """The menu of a role in a language (Telegram takes lowercase ASCII names only)."""
        routes = self.app.dispatcher.routes
        translate = self.app.services.translate
        listed = [c for c in routes.visible_commands(role) if not only or c.name in only]
        return [BotCommand(c.name, translate(c.help_key, lang)[:256]) for c in listed
                if c.name.isascii() and c.name.islower()][:MAX_COMMANDS]

    async def set_shared(self) -> None:
        """The menus per language for every private chat, every group, and the security group."""
        default_lang = self.app.config.general.default_language
        scopes = [(BotCommandScopeAllPrivateChats(), "student", ()),
                  (BotCommandScopeAllGroupChats(), "guest", GROUP_COMMANDS)]
        if self.channel.security_chat_id:
            scopes.append((BotCommandScopeChat(self.channel.security_chat_id), "security", ()))
        for scope, role, only in scopes:
            for language_code, lang in (("zh", "zh"), ("en", "en"), (None, default_lang)):
                commands = self.commands(role, lang, only)
                if commands:
                    await self.channel.bot.set_my_commands(commands, scope=scope, language_code=language_code)

    async def set_personal_all(self) -> int:
        """At start: each bound Telegram account of a staff role gets its role's menu in its language."""
        done = 0
        for account, person in await self.app.store.accounts.bound_on(PLATFORM):
            role = effective_role(person, self.app.config, proof=account.proof)
            lang = account.language or self.app.config.general.default_language
            try:
                done += await self._set(account.user_key, account.chat_key, role, lang)
            except TelegramError as exc:     # one chat gone (blocked, deleted) must not cost the others theirs
                log.warning("could not set the command menu of telegram user %s: %s", account.user_key, exc)
        return done

    async def refresh(self, user_key: str) -> None:
        """After an update from a guest or student: set their own menu if they just bound (or proved) a staff role."""
        known = self._known.get(user_key)
        if known is not None and known[0] not in (GUEST, "student"):   # a student may prove a role with an invite
            return
        account = await self.app.store.accounts.find(PLATFORM, user_key)
        if account is None:
            return
        person = await self.app.store.people.get(account.person_id) if account.person_id else None
        role = effective_role(person, self.app.config, account)
        lang = account.language or self.app.config.general.default_language
        if (role, lang) == known:
            return
        try:
            await self._set(user_key, account.chat_key, role, lang)
        except TelegramError as exc:    # a menu is a convenience: the conversation goes on without it
            log.warning("could not set the command menu of telegram user %s: %s", user_key, exc)

    async def _set(self, user_key: str, chat_key: str, role: str, lang: str) -> bool:
        """Remember the account's role; set its private chat's menu when its role has one of its own."""
        self._known[user_key] = (role, lang)
        if role not in PERSONAL_ROLES or not chat_key.lstrip("-").isdigit():
            return False
        commands = self.commands(role, lang)
        if not commands:
            return False
        await self.channel.bot.set_my_commands(commands, scope=BotCommandScopeChat(int(chat_key)))
        return True
