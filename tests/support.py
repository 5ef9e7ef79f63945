"""Test helpers: the chat test backend (a scripted user, errbot-style: push a message, pop the replies) and the
bound-person factory, shared by tests and bench. The recording channel lives with the other fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.events import Incoming, Kind, Media, Outgoing
from tests.fakes.channels import RecordingChannel

__all__ = ["RecordingChannel", "User", "make_person"]


@dataclass
class User:
    """One person chatting through the dispatcher on a fake platform."""

    app: object
    key: str
    platform: str = "test"
    language_hint: str | None = None
    replies: list[Outgoing] = field(default_factory=list)

    async def say(self, body: str) -> list[Outgoing]:
        """Send text (or a /command) and return the replies."""
        return await self._send(Incoming(self.platform, self.key, self.key, Kind.TEXT, body,
                                         language_hint=self.language_hint))

    async def press(self, data: str) -> list[Outgoing]:
        """Press a button by its data."""
        return await self._send(Incoming(self.platform, self.key, self.key, Kind.BUTTON, data,
                                         language_hint=self.language_hint))

    async def press_label(self, label_part: str) -> list[Outgoing]:
        """Press the button in the last replies whose label contains label_part."""
        for reply in reversed(self.replies):
            for button in reply.flat_buttons():
                if label_part in button.label:
                    return await self.press(button.data)
        raise AssertionError(f"no button with {label_part!r} in {[b.label for r in self.replies for b in r.flat_buttons()]}")

    async def send_file(self, data: bytes, filename: str = "shot.png", kind: str = "photo") -> list[Outgoing]:
        """Send a photo or document."""
        return await self._send(Incoming(self.platform, self.key, self.key, Kind.MEDIA, "",
                                         media=Media(kind, filename, data, "image/png")))

    async def _send(self, msg: Incoming) -> list[Outgoing]:
        self.replies = await self.app.handle(msg)
        return self.replies

    @property
    def text(self) -> str:
        """All reply texts of the last message, joined."""
        return "\n".join(r.text or (r.quiz.question if r.quiz else "") for r in self.replies)

    async def bind(self, code: str, number: str, lang: str = "zh", name: str | None = None) -> None:
        """Go through onboarding: /start, language, class code, number (and the name, when the roster has it)."""
        await self.say("/start")
        await self.press(f"lang:{lang}")
        await self.say(code)
        await self.say(number)
        if name is not None:
            await self.say(name)
        assert "✅" in self.text or "绑定成功" in self.text or "linked" in self.text, self.text

    async def bind_invited(self, number: str) -> None:
        """Bind (or re-prove) this chat with a personal invite made for the person, as the office hands out."""
        person = await self.app.store.people.by_number(number)
        code, _ = await self.app.store.invites.create(person.id, 7, "test")
        await self.say(f"/start {code}")
        assert "绑定成功" in self.text or "linked" in self.text, self.text

async def make_person(app, number: str, role: str = "student", class_id=None, college: str = "计算机学院",
                      name: str | None = None, key: str | None = None, lang: str = "zh",
                      platform: str = "test") -> User:
    """A person with a role and a bound chat account (the one bound-person factory of tests and bench)."""
    person = await app.store.people.create(number, class_id, college, role=role)
    if name:
        await app.store.db.execute("UPDATE people SET name = ? WHERE id = ?", (name, person.id))
    user = User(app, key or f"u-{number}", platform=platform)
    account = await app.store.accounts.touch(user.platform, user.key, user.key)
    await app.store.accounts.bind(account.id, person.id)
    await app.store.accounts.set_language(account.id, lang)
    user.person_id = person.id
    return user
