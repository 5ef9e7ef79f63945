"""Every interface string the code asks for exists in the library, in zh and en."""

from __future__ import annotations

import re
from pathlib import Path

from bot.library.loader import load_library

ROOT = Path(__file__).resolve().parent.parent
# ctx.t("key"...), translate("key", ...), self.t("key"...): literal keys only.
LITERAL_KEY = re.compile(r"""\b(?:t|translate)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


def literal_keys() -> dict[str, str]:
    found = {}
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
                found.setdefault(key, str(path.relative_to(ROOT)))
    return found


def test_every_literal_key_in_the_code_is_defined():
    strings = load_library(ROOT / "content").strings
    keys = literal_keys()
    assert len(keys) > 100
    # A key ending in "." or "_" is a prefix the code completes ("report.status." + status).
    missing = {
        key: where for key, where in keys.items()
        if (key not in strings if key[-1] not in "._" else not any(k.startswith(key) for k in strings))
    }
    assert missing == {}
