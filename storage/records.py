"""Plain records read from the database."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, fields

ROLES = ("student", "staff", "monitor", "counsellor", "security", "admin")
TAGS = ("freshman", "graduate", "international", "staff")


def from_row(cls, row: sqlite3.Row | None):
    """Build a record from a row, taking only the columns the record declares."""
    if row is None:
        return None
    keys = row.keys()
    return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in keys})


@dataclass
class ClassRecord:
    id: int
    name: str
    college: str
    join_code: str
    is_demo: int = 0


@dataclass
class Person:
    id: int
    person_no: str | None
    name: str | None
    college: str
    class_id: int | None
    dorm: str | None
    role: str
    tags: str
    from_roster: int = 0
    opted_out: int = 0
    forgotten_at: str | None = None

    @property
    def tag_set(self) -> set[str]:
        """The person's tags as a set."""
        return {t for t in self.tags.split(",") if t}

    def display(self) -> str:
        """What a monitor sees: the name if known, else the number."""
        return self.name or self.person_no or f"#{self.id}"


@dataclass
class Account:
    id: int
    platform: str
    user_key: str
    chat_key: str
    person_id: int | None
    language: str | None
    reachable: int = 1
    unreachable_reason: str | None = None
    last_seen_at: str | None = None
    bind_failures: int = 0
    bind_locked_until: str | None = None
    proof: str | None = None          # how the binding was proven: code, invite, sso, wecom, operator
    bound_at: str | None = None


@dataclass
class ConversationState:
    name: str
    step: str
    data: dict


@dataclass
class OfferedChoices:
    """Options recently offered to an account, newest first; closed once the newest question has ended.

    refs[i] is the platform's id of the delivered message that offered offers[i], where the adapter knows it
    (a Telegram message id), so a reply quoting that message answers its options.
    """

    offers: list[list[tuple[str, str]]]
    closed: bool
    refs: list[str | None] = field(default_factory=list)

    def offer_for(self, ref: str) -> list[tuple[str, str]] | None:
        """The options of the delivered message with this platform id, or None when none is remembered."""
        for offer, known in zip(self.offers, self.refs, strict=False):
            if known == ref:
                return offer
        return None


@dataclass(frozen=True)
class QuizAttempt:
    """One quiz attempt: its questions (library ids, in the order asked) and, once finished, its score."""

    id: int
    person_id: int
    kind: str                    # awareness, type, contest, review
    contest_id: int | None
    fraud_type: str | None
    questions: tuple[str, ...]
    total: int
    correct: int
    score: int | None
    passed: bool
    started_at: str
    finished_at: str | None


@dataclass(frozen=True)
class QuizAnswer:
    """One answer of an attempt: the library option chosen (whatever order it was shown in)."""

    attempt_id: int
    position: int
    question_id: str
    chosen: int
    correct: bool
    answered_at: str


@dataclass(frozen=True)
class ReportIdentifier:
    """A phone number, link or account of the other side named in a report, as given and normalised."""

    id: int
    report_id: int
    kind: str                    # phone, url, account, qq, wechat, bank
    raw: str
    normalized: str
    created_at: str


@dataclass(frozen=True)
class ReportEvidence:
    """One evidence file of a report (its path under the evidence folder)."""

    id: int
    report_id: int
    kind: str                    # photo, document
    filename: str
    path: str
    size: int
    sha256: str
    created_at: str


@dataclass(frozen=True)
class ReportEvent:
    """One step of a report's timeline: who did what, when, with an optional note."""

    id: int
    report_id: int
    actor_person_id: int | None
    action: str
    note: str | None
    at: str


@dataclass(frozen=True)
class ReportReview:
    """The 倒查 of a case with a loss: the interview day, what was found and what follows."""

    id: int
    report_id: int
    reviewer_id: int | None
    interviewed_on: str          # local day 'YYYY-MM-DD'
    findings: str
    responsibility: str
    follow_up: str
    created_at: str


@dataclass(frozen=True)
class Contest:
    """A timed contest: the same questions for one audience (the school, a college or a class)."""

    id: int
    started_by: int | None
    scope: str                   # school, college, class
    scope_value: str             # the college name or the class id; '' for the school
    questions: tuple[str, ...]
    seconds_per_question: int
    status: str                  # open, closed
    created_at: str
    closes_at: str
    closed_at: str | None


@dataclass(frozen=True)
class ContestEntry:
    """One person's line of a contest's leaderboard."""

    person_id: int
    score: int
    correct: int
    total: int
    elapsed_s: float
    name: str | None
    person_no: str | None
    klass: str | None


@dataclass(frozen=True)
class ContestGroup:
    """A class's or a college's line of a contest's leaderboard."""

    name: str
    average: float
    entries: int
