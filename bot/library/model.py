"""The content library as typed objects, loaded from content/."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("zh", "en")
AUDIENCES = ("all", "freshman", "graduate", "international", "staff")
LETTERS = "ABCD"


@dataclass(frozen=True)
class Localized:
    """A text in zh and en."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in lang, falling back to zh."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class LocalizedList:
    """A list of texts in zh and en."""

    zh: tuple[str, ...]
    en: tuple[str, ...]

    def get(self, lang: str) -> tuple[str, ...]:
        """The list in lang, falling back to zh."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class CaseText:
    title: str
    story: str
    turning_point: str
    lesson: str
    question: str
    options: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Case:
    """A real-style case story, used as a weekly warning."""

    id: str
    fraud_type: str
    audience: tuple[str, ...]
    amount: int
    answer: int                 # index of the right option
    zh: CaseText
    en: CaseText

    def text(self, lang: str) -> CaseText:
        """The story in lang."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class QuestionText:
    question: str
    options: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class QuizQuestion:
    """A four-option question with one right answer."""

    id: str
    fraud_type: str
    difficulty: int
    answer: int                 # index 0-3
    zh: QuestionText
    en: QuestionText

    def text(self, lang: str) -> QuestionText:
        """The question in lang."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class SelfCheck:
    """A yes/no daily self-check question."""

    id: str
    fraud_type: str
    risky: str                  # "yes" or "no"
    question: Localized
    advice: Localized


@dataclass(frozen=True)
class FraudType:
    """One taxonomy id with everything we teach about it."""

    id: str
    name: Localized
    audience: str
    summary: Localized
    red_flags: LocalizedList
    what_to_do: LocalizedList
    phrases: LocalizedList
    keywords: tuple[str, ...]
    cases: tuple[Case, ...]
    quiz: tuple[QuizQuestion, ...]
    selfchecks: tuple[SelfCheck, ...]


@dataclass(frozen=True)
class BenignKind:
    """One kind of ordinary, legitimate message (courier, bank, school...) and how to check one officially."""

    id: str
    advice: Localized
    messages: LocalizedList
    keywords: tuple[str, ...] = ()      # the official channels and everyday words such messages use


@dataclass(frozen=True)
class Pledge:
    """The safety pledge; a new version asks every signer again."""

    version: int
    text: Localized


@dataclass
class Library:
    """The whole content library."""

    types: dict[str, FraudType]
    pledge: Pledge
    strings: dict[str, Localized]
    extra: dict[str, dict] = field(default_factory=dict)   # other top-level files by name (campaigns, drills...)

    def type(self, type_id: str) -> FraudType:
        """The fraud type by id; unknown ids fall back to 'other'."""
        return self.types.get(type_id) or self.types["other"]

    def benign(self) -> dict[str, BenignKind]:
        """The benign library by kind (empty when content/benign/ is absent)."""
        return self.extra.get("benign", {})

    def all_quiz(self) -> list[QuizQuestion]:
        """Every quiz question in the library."""
        return [q for t in self.types.values() for q in t.quiz]

    def all_cases(self) -> list[Case]:
        """Every case story in the library."""
        return [c for t in self.types.values() for c in t.cases]

    def all_selfchecks(self) -> list[SelfCheck]:
        """Every self-check question in the library."""
        return [s for t in self.types.values() for s in t.selfchecks]

    def quiz_by_id(self, question_id: str) -> QuizQuestion | None:
        """A quiz question by id."""
        return self._index("quiz").get(question_id)

    def case_by_id(self, case_id: str) -> Case | None:
        """A case by id."""
        return self._index("case").get(case_id)

    def selfcheck_by_id(self, check_id: str) -> SelfCheck | None:
        """A self-check question by id."""
        return self._index("selfcheck").get(check_id)

    def _index(self, what: str) -> dict:
        cache = self.extra.setdefault("_index", {})
        if what not in cache:
            items = {"quiz": self.all_quiz, "case": self.all_cases, "selfcheck": self.all_selfchecks}[what]()
            cache[what] = {item.id: item for item in items}
        return cache[what]
