"""The neutral types at the adapter boundary: what comes in, what goes out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What an incoming event is."""

    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    POLL_ANSWER = "poll_answer"
    MEDIA = "media"
    JOIN = "join"          # subscribe, /start from a new chat, added to a group
    LEAVE = "leave"        # unsubscribe, blocked the bot


@dataclass
class Media:
    """A file the user sent: bytes already fetched by the adapter."""

    kind: str               # photo, document, voice
    filename: str
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Incoming:
    """One event from a person, in no platform's terms; immutable (a rewrite is a new one, dataclasses.replace)."""

    platform: str
    user_key: str
    chat_key: str
    kind: Kind
    payload: str = ""               # text, command arguments, button data, chosen option index
    command: str | None = None      # without the slash, lower case
    language_hint: str | None = None
    media: Media | None = None
    is_group: bool = False
    security_group: bool = False    # the configured security group, where office commands belong
    quoted: str | None = None       # the platform id of the message this one replies to (a Telegram reply)
    raw: Any = field(default=None, repr=False)

    def session_id(self) -> str:
        """A stable key for the person on this platform."""
        return f"{self.platform}:{self.user_key}"


@dataclass
class Button:
    """One choice: a label people read and data the dispatcher routes on."""

    label: str
    data: str


@dataclass
class QuizSpec:
    """A single-answer question with its explanation."""

    question: str
    options: list[str]
    correct_index: int
    explanation: str = ""
    answer_prefix: str = ""          # button data prefix; the chosen index is appended
    open_seconds: int | None = None  # a time limit, for contests


@dataclass
class Outgoing:
    """One message to a person or a channel; adapters render what their platform can."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    quiz: QuizSpec | None = None
    image: bytes | None = None
    file: bytes | None = None
    filename: str = ""
    urgent: bool = False             # emergencies: not held back by quiet hours
    alert: bool = False              # a refusal or short notice; a pressed button shows it as a pop-up
    ref: str = ""                    # stable key; a later message with the same ref replaces this one
                                     # where the platform can edit (report cards, progress figures)
    repost: bool = False             # with ref: post anew so people are notified (a reminder), and
                                     # still make the old one match where the platform edits

    @property
    def kind(self) -> str:
        """text, buttons, quiz, image or file."""
        if self.quiz is not None:
            return "quiz"
        if self.image is not None:
            return "image"
        if self.file is not None:
            return "file"
        return "buttons" if self.buttons else "text"

    def flat_buttons(self) -> list[Button]:
        """Every button in reading order."""
        return [b for row in self.buttons for b in row]

    def to_dict(self) -> dict:
        """A JSON-safe form for the outbox (binary parts as base64)."""
        import base64

        data = asdict(self)
        for key in ("image", "file"):
            if data[key] is not None:
                data[key] = base64.b64encode(data[key]).decode("ascii")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Outgoing:
        """Rebuild a message stored by to_dict."""
        import base64

        data = dict(data)
        data["buttons"] = [[Button(**b) for b in row] for row in data.get("buttons", [])]
        if data.get("quiz"):
            data["quiz"] = QuizSpec(**data["quiz"])
        for key in ("image", "file"):
            if data.get(key) is not None:
                data[key] = base64.b64decode(data[key])
        return cls(**data)


def text(body: str, *rows: list[Button], urgent: bool = False) -> Outgoing:
    """A text message, with rows of buttons if given."""
    return Outgoing(text=body, buttons=[list(r) for r in rows if r], urgent=urgent)
