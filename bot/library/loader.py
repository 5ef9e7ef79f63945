"""Read and validate a content library; every problem names file, entry and field."""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.library.campaigns import load_calendar
from bot.library.drills import load_drills
from bot.library.model import (
    AUDIENCES,
    LANGS,
    LETTERS,
    BenignKind,
    Case,
    CaseText,
    FraudType,
    Library,
    Localized,
    LocalizedList,
    Pledge,
    QuestionText,
    QuizQuestion,
    SelfCheck,
)

BENIGN_MINIMUM = 150        # messages per language: enough for the matcher to learn what is not fraud


class LibraryError(Exception):
    """The library has problems; str() lists them one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    """Collects `file: entry: field: what is wrong` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, file: str, entry: str, fld: str, message: str) -> None:
        """Record one problem."""
        self.lines.append(f"{file}: {entry}: {fld}: {message}")


def load_taxonomy(path: Path) -> dict[str, dict]:
    """The taxonomy's types by id, in file order."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {t["id"]: t for t in data["type"]}


def read_toml(path: Path, rel: str, problems: Problems) -> dict | None:
    """Parse one TOML file, recording a problem instead of raising."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.add(rel, "-", "-", f"not valid TOML: {exc}")
        return None


def check_library(folder: Path) -> list[str]:
    """Validate a library folder and return the problems (empty when all is well)."""
    try:
        library = load_library(folder)
    except LibraryError as exc:
        return exc.problems
    # The quiz must measure knowledge: length, position and wording may not give answers away.
    return list(dict.fromkeys(line for cues in quiz_cues(library) for line in cues.problems()))


# What an option must not say: it lets a reader answer without knowing anything.
GIVEAWAYS = re.compile(r"以上(?:都|皆|全|均)|都(?:对|正确|不对)|all of the above|none of the above|both of the above",
                       re.I)
LONGEST_LIMIT = 0.30         # per language, the right option may be the strictly longest in at most this share


POSITION_SLACK = 0.10        # each letter is the right one in a quarter of the questions, ± 10 % of that


@dataclass(frozen=True)
class QuizCues:
    """How far the bank's wording gives answers away, per language."""

    lang: str
    questions: int
    longest: list[str]          # ids of questions whose right option is the strictly longest
    shortest: list[str]         # ids of questions whose right option is the strictly shortest
    giveaways: list[str]        # ids of questions with an "all of the above"-type option
    positions: list[int]        # how often A, B, C, D is the right letter as written

    @property
    def longest_share(self) -> float:
        """The share of questions whose right option is the strictly longest."""
        return len(self.longest) / self.questions if self.questions else 0.0

    @property
    def shortest_share(self) -> float:
        """The share of questions whose right option is the strictly shortest."""
        return len(self.shortest) / self.questions if self.questions else 0.0

    def problems(self) -> list[str]:
        """What breaks the bank's limits, one line each (empty when it measures knowledge)."""
        out = []
        for name, share in (("longest", self.longest_share), ("shortest", self.shortest_share)):
            if share > LONGEST_LIMIT:
                out.append(f"quiz ({self.lang}): the right option is the strictly {name} in {share:.0%} of "
                           f"questions; at most {LONGEST_LIMIT:.0%} may be, or answering by length passes")
        fair = self.questions / 4
        for letter, count in zip("ABCD", self.positions, strict=True):
            if abs(count - fair) > POSITION_SLACK * fair:
                out.append(f"quiz: {letter} is the right answer in {count} of {self.questions} questions; each "
                           f"letter should be in {fair * (1 - POSITION_SLACK):.0f}-{fair * (1 + POSITION_SLACK):.0f}")
        out += [f"quiz: {question_id}: an 'all of the above'-type option gives the answer away"
                for question_id in self.giveaways]
        return out


def quiz_cues(library: Library) -> list[QuizCues]:
    """Measure, per language, how often the right option stands out by length or position, or is a giveaway."""
    out = []
    questions = library.all_quiz()
    positions = [sum(1 for q in questions if q.answer == i) for i in range(4)]
    for lang in ("zh", "en"):
        longest, shortest, giveaways = [], [], []
        for question in questions:
            options = question.text(lang).options
            lengths = [len(option) for option in options]
            right = lengths[question.answer]
            others = [length for i, length in enumerate(lengths) if i != question.answer]
            if all(right > length for length in others):
                longest.append(question.id)
            if all(right < length for length in others):
                shortest.append(question.id)
            if any(GIVEAWAYS.search(option) for option in options):
                giveaways.append(question.id)
        out.append(QuizCues(lang, len(questions), longest, shortest, giveaways, positions))
    return out


_CACHE: dict[Path, tuple[tuple, Library]] = {}


def _signature(folder: Path) -> tuple:
    """What identifies a library's state on disk: every TOML file's path, size and mtime."""
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*.toml")))


def load_library_cached(folder: Path) -> Library:
    """Load a library once per process while its files are unchanged (the library is read-only)."""
    folder = Path(folder).resolve()
    signature = _signature(folder)
    cached = _CACHE.get(folder)
    if cached is not None and cached[0] == signature:
        return cached[1]
    library = load_library(folder)
    _CACHE[folder] = (signature, library)
    return library


def load_library(folder: Path) -> Library:
    """Load and validate the library in folder; raise LibraryError listing every problem."""
    folder = Path(folder)
    problems = Problems()
    taxonomy_path = folder / "taxonomy.toml"
    if not taxonomy_path.exists():
        raise LibraryError([f"taxonomy.toml: -: -: missing from {folder}"])
    taxonomy = load_taxonomy(taxonomy_path)
    types = _load_types(folder, taxonomy, problems)
    pledge = _load_pledge(folder, problems)
    strings = _load_strings(folder, problems)
    extra: dict[str, dict] = {}
    for name, loader in EXTRA_SECTIONS.items():
        extra[name] = loader(folder, problems, types)
    _check_unique_ids(types, problems)
    if problems.lines:
        raise LibraryError(problems.lines)
    assert pledge is not None
    return Library(types=types, pledge=pledge, strings=strings, extra=extra)


def _load_types(folder: Path, taxonomy: dict[str, dict], problems: Problems) -> dict[str, FraudType]:
    types: dict[str, FraudType] = {}
    type_dir = folder / "types"
    for type_id, meta in taxonomy.items():
        rel = f"types/{type_id}.toml"
        path = type_dir / f"{type_id}.toml"
        if not path.exists():
            problems.add(rel, type_id, "-", "missing: every taxonomy id needs a file")
            continue
        data = read_toml(path, rel, problems)
        if data is None:
            continue
        parsed = _parse_type(data, meta, rel, problems)
        if parsed is not None:
            types[type_id] = parsed
    if type_dir.exists():
        for path in sorted(type_dir.glob("*.toml")):
            if path.stem not in taxonomy:
                problems.add(f"types/{path.name}", path.stem, "id", "not a taxonomy id")
    return types


class _Fields:
    """Typed access to one TOML table that records problems as it goes."""

    def __init__(self, data: dict, rel: str, entry: str, problems: Problems) -> None:
        self.data, self.rel, self.entry, self.problems = data, rel, entry, problems
        self.ok = True

    def fail(self, fld: str, message: str) -> None:
        self.ok = False
        self.problems.add(self.rel, self.entry, fld, message)

    def text(self, table: dict, fld: str, label: str) -> str:
        value = table.get(fld)
        if not isinstance(value, str) or not value.strip():
            self.fail(label, "missing or empty text")
            return ""
        return value.strip()

    def localized(self, fld: str) -> Localized:
        table = self.data.get(fld)
        if not isinstance(table, dict):
            self.fail(fld, "missing: needs zh and en")
            return Localized("", "")
        return Localized(self.text(table, "zh", f"{fld}.zh"), self.text(table, "en", f"{fld}.en"))

    def text_list(self, table: dict, fld: str, label: str, minimum: int) -> tuple[str, ...]:
        value = table.get(fld)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(label, "missing, or not a list of non-empty texts")
            return ()
        if len(value) < minimum:
            self.fail(label, f"needs at least {minimum}, has {len(value)}")
        return tuple(v.strip() for v in value)

    def localized_list(self, fld: str, minimum: int, same_length: bool = True) -> LocalizedList:
        table = self.data.get(fld)
        if not isinstance(table, dict):
            self.fail(fld, "missing: needs zh and en lists")
            return LocalizedList((), ())
        zh = self.text_list(table, "zh", f"{fld}.zh", minimum)
        en = self.text_list(table, "en", f"{fld}.en", minimum)
        if same_length and zh and en and len(zh) != len(en):
            self.fail(fld, f"zh has {len(zh)} items but en has {len(en)}")
        return LocalizedList(zh, en)

    def integer(self, fld: str, low: int, high: int) -> int:
        value = self.data.get(fld)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(fld, f"must be a whole number from {low} to {high}")
            return low
        return value

    def letter(self, fld: str, count: int) -> int:
        value = self.data.get(fld)
        letters = LETTERS[:count]
        if not isinstance(value, str) or value.upper() not in letters:
            self.fail(fld, f"must be one of {', '.join(letters)}")
            return 0
        return letters.index(value.upper())


def _parse_type(data: dict, meta: dict, rel: str, problems: Problems) -> FraudType | None:
    type_id = meta["id"]
    f = _Fields(data, rel, type_id, problems)
    if data.get("id") != type_id:
        f.fail("id", f"must be {type_id!r} (the file name)")
    summary = f.localized("summary")
    red_flags = f.localized_list("red_flags", 4)
    what_to_do = f.localized_list("what_to_do", 4)
    matcher = data.get("matcher")
    phrases = LocalizedList((), ())
    keywords: tuple[str, ...] = ()
    if not isinstance(matcher, dict):
        f.fail("matcher", "missing: needs zh and en phrases")
    else:
        mf = _Fields(matcher, rel, type_id, problems)
        zh = mf.text_list(matcher, "zh", "matcher.zh", 1)
        en = mf.text_list(matcher, "en", "matcher.en", 1)
        if len(zh) + len(en) < 15:
            mf.fail("matcher", f"needs at least 15 phrases across zh and en, has {len(zh) + len(en)}")
        keywords = mf.text_list(matcher, "keywords", "matcher.keywords", 0) if "keywords" in matcher else ()
        phrases = LocalizedList(zh, en)
        f.ok = f.ok and mf.ok
    cases = tuple(
        c for i, raw in enumerate(_table_list(data, "case", f)) if (c := _parse_case(raw, i, type_id, rel, problems))
    )
    quiz = tuple(
        q for i, raw in enumerate(_table_list(data, "quiz", f)) if (q := _parse_quiz(raw, i, type_id, rel, problems))
    )
    checks = tuple(
        s
        for i, raw in enumerate(_table_list(data, "selfcheck", f))
        if (s := _parse_selfcheck(raw, i, type_id, rel, problems))
    )
    for name, items, minimum in (("case", cases, 3), ("quiz", quiz, 6), ("selfcheck", checks, 2)):
        if len(items) < minimum:
            f.fail(name, f"needs at least {minimum}, has {len(items)}")
    if not f.ok:
        return None
    return FraudType(
        id=type_id,
        name=Localized(meta["zh"], meta["en"]),
        audience=meta.get("audience", "all"),
        summary=summary,
        red_flags=red_flags,
        what_to_do=what_to_do,
        phrases=phrases,
        keywords=keywords,
        cases=cases,
        quiz=quiz,
        selfchecks=checks,
    )


def _table_list(data: dict, key: str, f: _Fields) -> list[dict]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        f.fail(key, "must be an array of tables ([[{key}]])")
        return []
    return value


def _entry_id(raw: dict, kind: str, index: int) -> str:
    value = raw.get("id")
    return value if isinstance(value, str) and value else f"{kind} #{index + 1}"


def _parse_case(raw: dict, index: int, type_id: str, rel: str, problems: Problems) -> Case | None:
    entry = _entry_id(raw, "case", index)
    f = _Fields(raw, rel, entry, problems)
    if "id" not in raw:
        f.fail("id", "missing")
    audience = raw.get("audience")
    if not isinstance(audience, list) or not audience or any(a not in AUDIENCES for a in audience):
        f.fail("audience", f"must be a non-empty list of: {', '.join(AUDIENCES)}")
        audience = ["all"]
    amount = f.integer("amount", 0, 100_000_000)
    texts = {}
    for lang in LANGS:
        table = raw.get(lang)
        if not isinstance(table, dict):
            f.fail(lang, "missing")
            continue
        options = f.text_list(table, "options", f"{lang}.options", 3)
        if len(options) > 4:
            f.fail(f"{lang}.options", f"needs 3 or 4 options, has {len(options)}")
        texts[lang] = CaseText(
            title=f.text(table, "title", f"{lang}.title"),
            story=f.text(table, "story", f"{lang}.story"),
            turning_point=f.text(table, "turning_point", f"{lang}.turning_point"),
            lesson=f.text(table, "lesson", f"{lang}.lesson"),
            question=f.text(table, "question", f"{lang}.question"),
            options=options,
            explanation=f.text(table, "explanation", f"{lang}.explanation"),
        )
    if len(texts) == 2 and len(texts["zh"].options) != len(texts["en"].options):
        f.fail("options", "zh and en have a different number of options")
    count = len(texts["zh"].options) if "zh" in texts else 4
    answer = f.letter("answer", max(3, min(count, 4)))
    if not f.ok:
        return None
    return Case(entry, type_id, tuple(audience), amount, answer, texts["zh"], texts["en"])


def _parse_quiz(raw: dict, index: int, type_id: str, rel: str, problems: Problems) -> QuizQuestion | None:
    entry = _entry_id(raw, "quiz", index)
    f = _Fields(raw, rel, entry, problems)
    if "id" not in raw:
        f.fail("id", "missing")
    difficulty = f.integer("difficulty", 1, 3)
    answer = f.letter("answer", 4)
    texts = {}
    for lang in LANGS:
        table = raw.get(lang)
        if not isinstance(table, dict):
            f.fail(lang, "missing")
            continue
        options = f.text_list(table, "options", f"{lang}.options", 4)
        if len(options) != 4:
            f.fail(f"{lang}.options", f"needs exactly 4 options, has {len(options)}")
        texts[lang] = QuestionText(
            question=f.text(table, "question", f"{lang}.question"),
            options=options,
            explanation=f.text(table, "explanation", f"{lang}.explanation"),
        )
    if not f.ok:
        return None
    return QuizQuestion(entry, type_id, difficulty, answer, texts["zh"], texts["en"])


def _parse_selfcheck(raw: dict, index: int, type_id: str, rel: str, problems: Problems) -> SelfCheck | None:
    entry = _entry_id(raw, "selfcheck", index)
    f = _Fields(raw, rel, entry, problems)
    if "id" not in raw:
        f.fail("id", "missing")
    risky = raw.get("risky")
    if risky not in ("yes", "no"):
        f.fail("risky", 'must be "yes" or "no"')
    questions, advice = {}, {}
    for lang in LANGS:
        table = raw.get(lang)
        if not isinstance(table, dict):
            f.fail(lang, "missing")
            continue
        questions[lang] = f.text(table, "question", f"{lang}.question")
        advice[lang] = f.text(table, "advice", f"{lang}.advice")
    if not f.ok:
        return None
    return SelfCheck(
        entry, type_id, risky, Localized(questions["zh"], questions["en"]), Localized(advice["zh"], advice["en"])
    )


def _check_unique_ids(types: dict[str, FraudType], problems: Problems) -> None:
    seen: dict[str, str] = {}
    for fraud_type in types.values():
        for item in (*fraud_type.cases, *fraud_type.quiz, *fraud_type.selfchecks):
            if item.id in seen:
                problems.add(
                    f"types/{fraud_type.id}.toml", item.id, "id", f"also used in types/{seen[item.id]}.toml"
                )
            seen[item.id] = fraud_type.id


def _load_pledge(folder: Path, problems: Problems) -> Pledge | None:
    path = folder / "pledge.toml"
    if not path.exists():
        problems.add("pledge.toml", "pledge", "-", "missing")
        return None
    data = read_toml(path, "pledge.toml", problems)
    if data is None:
        return None
    f = _Fields(data, "pledge.toml", "pledge", problems)
    version = f.integer("version", 1, 10_000)
    text = f.localized("text")
    return Pledge(version, text) if f.ok else None


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load_strings(folder: Path, problems: Problems) -> dict[str, Localized]:
    strings: dict[str, Localized] = {}
    origin: dict[str, str] = {}
    for path in sorted((folder / "ui").glob("*.toml")):
        rel = f"ui/{path.name}"
        data = read_toml(path, rel, problems)
        if data is None:
            continue
        for key, table in data.items():
            if not isinstance(table, dict):
                problems.add(rel, key, "-", "must be a table with zh and en")
                continue
            if key in origin:
                problems.add(rel, key, "-", f"already defined in {origin[key]}")
                continue
            f = _Fields(table, rel, key, problems)
            zh, en = f.text(table, "zh", "zh"), f.text(table, "en", "en")
            if not f.ok:
                continue
            if _placeholders(zh) != _placeholders(en):
                problems.add(rel, key, "en", f"placeholders differ from zh: {sorted(_placeholders(zh))}")
                continue
            strings[key] = Localized(zh, en)
            origin[key] = rel
    return strings


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<unbalanced braces>"}


def load_benign(folder: Path, problems: Problems, types: dict) -> dict[str, BenignKind]:
    """Read content/benign/*.toml (the EXTRA_SECTIONS loader): ordinary messages by kind, with checking advice."""
    kinds: dict[str, BenignKind] = {}
    benign_dir = Path(folder) / "benign"
    if not benign_dir.is_dir():
        return kinds
    for path in sorted(benign_dir.glob("*.toml")):
        rel = f"benign/{path.name}"
        data = read_toml(path, rel, problems)
        if data is None:
            continue
        f = _Fields(data, rel, path.stem, problems)
        advice = f.localized("advice")
        messages = f.localized_list("messages", 1, same_length=False)
        keywords = f.text_list(data, "keywords", "keywords", 0) if "keywords" in data else ()
        if f.ok:
            kinds[path.stem] = BenignKind(id=path.stem, advice=advice, messages=messages, keywords=keywords)
    for lang in ("zh", "en"):
        count = sum(len(getattr(k.messages, lang)) for k in kinds.values())
        if kinds and count < BENIGN_MINIMUM:
            problems.add("benign", "-", f"messages.{lang}", f"needs at least {BENIGN_MINIMUM} in all, has {count}")
    return kinds



# Further sections of the library, by folder-or-file name: each loader takes (library_dir, Problems, types)
# and returns the parsed data (here at the end, so that load_benign above is defined).
EXTRA_SECTIONS = {"campaigns": load_calendar, "drills": load_drills, "benign": load_benign}
