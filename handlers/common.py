"""Small helpers shared by handlers: buttons, yes/no, argument parsing."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

from bot.context import Context
from bot.events import Button


def yes_no_buttons(ctx: Context, prefix: str) -> list[Button]:
    """A 'yes' and a 'no' button whose data ends in :yes / :no."""
    return [Button(ctx.t("common.yes"), f"{prefix}:yes"), Button(ctx.t("common.no"), f"{prefix}:no")]


def button_arg(data: str, prefix: str) -> str:
    """The part of a button's data after its route prefix."""
    return data[len(prefix):] if data.startswith(prefix) else ""


def bullet_list(items) -> str:
    """Items as '• item' lines."""
    return "\n".join(f"• {item}" for item in items)


def numbered_list(items) -> str:
    """Items as '1. item' lines."""
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


_NAME_PARTS = re.compile(r"[（）()、,，/／;；:：\s]+|含")


def find_type(library, words: str) -> str | None:
    """The fraud type that words name: its id, or its name or a part of it in zh or en ('刷单', '杀猪盘')."""
    wanted = unicodedata.normalize("NFKC", words).strip().lower()
    if not wanted:
        return None
    if wanted in library.types:
        return wanted
    scored = []
    for type_id, fraud in library.types.items():
        names = [fraud.name.get(lang).lower() for lang in ("zh", "en")]
        parts = {p for name in names for p in [name, *_NAME_PARTS.split(name)] if p}
        best = 95.0 if wanted in {k.lower() for k in fraud.keywords} else 0.0   # an alias such as 网贷
        for part in parts:
            if len(wanted) >= 2 and wanted in part:
                best = max(best, 100.0 - (len(part) - len(wanted)) / len(part) * 20)
            else:
                best = max(best, fuzz.ratio(wanted, part))
        scored.append((best, type_id))
    scored.sort(reverse=True)
    if scored[0][0] < 80 or (len(scored) > 1 and scored[0][0] - scored[1][0] < 5):
        return None
    return scored[0][1]
