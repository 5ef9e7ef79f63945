"""Typed button data: one small codec per button family packs and unpacks its fields (aiogram's CallbackData).

Data is the prefix then the fields joined by ':' ("rep:assign:R-2026-000001:7"). Packing checks
Telegram's 64-byte limit; unpacking returns None for anything malformed, so a forged or stale button
is a polite refusal and never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64           # Telegram's callback_data limit; the same data answers typed numbers elsewhere


@dataclass(frozen=True)
class ButtonData:
    """A codec for one family of buttons: its prefix, its fields (name → int or str) and their widest values."""

    prefix: str
    fields: tuple[tuple[str, type], ...]
    optional: int = 0                    # how many trailing fields may be left out
    widest: tuple = ()                   # the longest values it carries, to check the limit at start

    def pack(self, *values) -> str:
        """The data for these field values (trailing optional ones may be left out)."""
        if not len(self.fields) - self.optional <= len(values) <= len(self.fields):
            raise ValueError(f"{self.prefix} takes {len(self.fields)} fields, got {len(values)}")
        parts = [str(v) for v in values]
        if any(":" in p for p in parts):
            raise ValueError(f"{self.prefix}: a field may not contain ':'")
        data = self.prefix + ":".join(parts)
        if len(data.encode("utf-8")) > MAX_BYTES:
            raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
        return data

    def prefix_for(self, *values) -> str:
        """The data up to the last field, for options whose index is appended (quiz answers)."""
        return self.prefix + "".join(f"{v}:" for v in values)

    def unpack(self, data: str) -> dict | None:
        """The fields of data by name, converted to their types; None when it is not this codec's or malformed."""
        if not data.startswith(self.prefix):
            return None
        parts = data[len(self.prefix):].split(":") if data != self.prefix else []
        if not len(self.fields) - self.optional <= len(parts) <= len(self.fields):
            return None
        values = {}
        for (name, kind), part in zip(self.fields, parts, strict=False):
            if kind is int:
                if not part.isdigit() or len(part) > 12:
                    return None
                values[name] = int(part)
            elif not part:
                return None
            else:
                values[name] = part
        return values

    def check(self) -> None:
        """Raise if the widest values would not fit (the route table calls this when it is built)."""
        if self.widest:
            self.pack(*self.widest)
