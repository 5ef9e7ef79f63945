"""Interface strings in zh and en, from content/ui/*.toml."""

from __future__ import annotations

from bot.library.model import Localized

LANGUAGES = ("zh", "en")


def normalize_language(hint: str | None, default: str = "zh") -> str:
    """Map a platform language code (zh-hans, en-US, ...) to zh or en."""
    if not hint:
        return default
    hint = hint.lower()
    if hint.startswith("zh"):
        return "zh"
    return "en" if hint[:2].isalpha() else default


class Translator:
    """Looks up a key and fills its placeholders."""

    def __init__(self, strings: dict[str, Localized]) -> None:
        self.strings = strings

    def __call__(self, key: str, lang: str, **values) -> str:
        """The text for key in lang, with {placeholders} filled."""
        try:
            template = self.strings[key].get(lang)
        except KeyError:
            raise KeyError(f"no UI string {key!r} in content/ui") from None
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        """Whether the key exists."""
        return key in self.strings
